# Trapeze build. `make` builds the kernel, the user programs and the initramfs;
# `make run` boots it; `make test` runs every test; see README.md for the rest.
#
# Layout of build/:
#   build/kernel/...       object files, mirroring the source tree
#   build/trapeze.elf      the linked kernel with symbols (for gdb)
#   build/trapeze.bin      the flat Multiboot image QEMU and GRUB load
#   build/user/...         static musl programs
#   build/initramfs.cpio   the root filesystem handed to the kernel as a boot module

B := build
# V=1 shows every command.
Q := $(if $(V),,@)
CC := gcc
LD := ld
OBJCOPY := objcopy
MUSLCC := musl-gcc

KCFLAGS := -std=gnu11 -O2 -g -mpreferred-stack-boundary=3 -Wall -Wextra -Werror -Wno-unused-parameter \
	-ffreestanding -nostdinc -isystem $(shell $(CC) -print-file-name=include) \
	-fno-pic -fno-pie -mcmodel=kernel -mno-red-zone -mgeneral-regs-only \
	-fno-stack-protector -fno-omit-frame-pointer -fno-strict-aliasing \
	-fno-asynchronous-unwind-tables -fcf-protection=none -mno-80387 \
	-Iinclude -Iarch/x86_64/include -I$(B)/gen -MMD -MP
KASFLAGS := $(filter-out -std=gnu11 -Werror,$(KCFLAGS)) -D__ASSEMBLY__
KLDFLAGS := -nostdlib -z max-page-size=0x1000 -z noexecstack -T arch/x86_64/kernel.ld

KSRCS := $(wildcard arch/x86_64/*.c arch/x86_64/*.S kernel/*.c mm/*.c fs/*.c fs/*/*.c \
	drivers/*.c drivers/*/*.c lib/*.c tests/ktest/*.c)
KOBJS := $(patsubst %,$(B)/kernel/%.o,$(basename $(KSRCS)))

UCFLAGS := -static -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter -fno-strict-aliasing
USER_PROGS := $(patsubst user/%.c,$(B)/user/%,$(wildcard user/*.c))
TEST_PROGS := $(patsubst tests/user/%.c,$(B)/tests/%,$(wildcard tests/user/*.c))

all: $(B)/trapeze.bin $(B)/initramfs.cpio

# Missing Debian packages are installed (tools/deps) before anything is built; the stamp
# keeps later builds from asking dpkg again.
DEPS_STAMP := $(B)/.deps-installed
$(DEPS_STAMP): tools/deps
	@mkdir -p $(B)
	sh tools/deps
	@touch $@

# --- kernel -------------------------------------------------------------------

$(B)/gen/syscall_table.h: kernel/syscall_64.tbl tools/gensyscalls | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	sh tools/gensyscalls $< $@

$(B)/kernel/%.o: %.c $(B)/gen/syscall_table.h
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(KCFLAGS) -c $< -o $@

$(B)/kernel/%.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)$(CC) $(KASFLAGS) -c $< -o $@

# Symbols for backtraces: link once without them, list the text symbols, link again with
# the table. The table sits after .text and .rodata, so no text address moves.
$(B)/trapeze.0.elf: $(KOBJS) arch/x86_64/kernel.ld $(B)/kernel/ksyms_empty.o
	$(LD) $(KLDFLAGS) -o $@ $(KOBJS) $(B)/kernel/ksyms_empty.o

$(B)/kernel/ksyms_empty.o: tools/genksyms
	@mkdir -p $(dir $@)
	printf '' | sh tools/genksyms > $(B)/kernel/ksyms_empty.S
	$(CC) $(KASFLAGS) -c $(B)/kernel/ksyms_empty.S -o $@

$(B)/kernel/ksyms.o: $(B)/trapeze.0.elf tools/genksyms
	nm -n $< | sh tools/genksyms > $(B)/kernel/ksyms.S
	$(CC) $(KASFLAGS) -c $(B)/kernel/ksyms.S -o $@

$(B)/trapeze.elf: $(KOBJS) $(B)/kernel/ksyms.o
	$(LD) $(KLDFLAGS) -o $@ $(KOBJS) $(B)/kernel/ksyms.o

$(B)/trapeze.bin: $(B)/trapeze.elf
	$(OBJCOPY) -O binary --remove-section=.bss $< $@

-include $(KOBJS:.o=.d)

# --- user space -----------------------------------------------------------------

$(B)/user/%: user/%.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(MUSLCC) $(UCFLAGS) -o $@ $<

$(B)/tests/%: tests/user/%.c $(wildcard tests/user/*.h) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(MUSLCC) $(UCFLAGS) -Itests/user -o $@ $<

$(B)/initramfs.cpio: $(USER_PROGS) $(TEST_PROGS) tools/mkinitramfs
	sh tools/mkinitramfs $@ $(B)

# --- running ----------------------------------------------------------------------

deps:
	sh tools/deps
	@mkdir -p $(B) && touch $(DEPS_STAMP)

run: all
	sh tools/qemu-run

debug: all
	sh tools/qemu-run --debug

iso: $(B)/trapeze.iso

$(B)/trapeze.iso: $(B)/trapeze.bin $(B)/initramfs.cpio tools/mkiso tools/mkinitramfs
	sh tools/mkiso $@

test: all $(B)/trapeze.iso
	sh tests/run

bench: all
	sh bench/run

host-test: $(TEST_PROGS)
	sh tests/run --host

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

# sparse: user pointers (__user) never dereferenced or mixed with kernel pointers.
KSRCS_C := $(filter %.c,$(KSRCS))
check: $(B)/gen/syscall_table.h
	@for f in $(KSRCS_C); do \
		sparse -ffreestanding -Wno-decl -std=gnu11 -D__CHECKER__ -nostdinc \
			-isystem $(shell $(CC) -print-file-name=include) -Iinclude \
			-Iarch/x86_64/include -I$(B)/gen $$f; \
	done 2>&1 | tee $(B)/sparse.log; test ! -s $(B)/sparse.log

clean:
	rm -rf $(B)

.PHONY: all deps run debug iso test bench host-test format check clean
