// Unit tests of ELF header validation (kernel/elf.c) on hand-built headers: one good
// ET_EXEC and one good ET_DYN, and one broken variant per rule elf_check enforces.
#include <trapeze/elf.h>
#include <trapeze/ktest.h>
#include <trapeze/string.h>
#include <trapeze/vm.h>
#include <uapi/errno.h>

#define IMG_LEN 4096
#define FILE_SIZE 0x3000

// A typical static executable: PT_PHDR, text (offset 0, covers the headers), data+bss,
// PT_GNU_STACK. Program headers right after the file header.
struct test_image {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[8];
};

static union {
	struct test_image img;
	unsigned char bytes[IMG_LEN];
} buf;

static Elf64_Phdr *build(unsigned int type, uint64_t base)
{
	Elf64_Ehdr *eh = &buf.img.eh;
	Elf64_Phdr *ph = buf.img.ph;

	memset(&buf, 0, sizeof(buf));
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = type;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_entry = base + 0x1040;
	eh->e_phoff = sizeof(Elf64_Ehdr);
	eh->e_ehsize = sizeof(Elf64_Ehdr);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = 4;
	ph[0] = (Elf64_Phdr){ .p_type = PT_PHDR, .p_flags = PF_R, .p_offset = 64,
			      .p_vaddr = base + 64, .p_filesz = 4 * 56, .p_memsz = 4 * 56 };
	ph[1] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = 0,
			      .p_vaddr = base, .p_filesz = 0x1800, .p_memsz = 0x1800,
			      .p_align = 0x1000 };
	ph[2] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_W, .p_offset = 0x1f00,
			      .p_vaddr = base + 0x2f00, .p_filesz = 0x200, .p_memsz = 0x5000,
			      .p_align = 0x1000 };
	ph[3] = (Elf64_Phdr){ .p_type = PT_GNU_STACK, .p_flags = PF_R | PF_W };
	return ph;
}

static int check(void)
{
	struct elf_info info;

	return elf_check(&buf, IMG_LEN, FILE_SIZE, &info);
}

KTEST(elf_good_exec, "elf: a well-formed static ET_EXEC is accepted")
{
	struct elf_info info;
	Elf64_Phdr ph;

	build(ET_EXEC, 0x400000);
	KT_EXPECT(t, elf_check(&buf, IMG_LEN, FILE_SIZE, &info) == 0);
	KT_EXPECT(t, info.type == ET_EXEC && info.load_bias == 0);
	KT_EXPECT(t, info.entry == 0x401040);
	KT_EXPECT(t, info.phdr_addr == 0x400040 && info.phnum == 4);
	KT_EXPECT(t, info.load_start == 0x400000 && info.load_end == 0x407f00);
	KT_EXPECT(t, !info.stack_exec);
	elf_phdr_get(&buf, &info, 2, &ph);
	KT_EXPECT(t, ph.p_type == PT_LOAD && ph.p_memsz == 0x5000);
	// Without PT_PHDR, AT_PHDR comes from the segment that holds the table.
	buf.img.ph[0].p_type = PT_NOTE;
	KT_EXPECT(t, elf_check(&buf, IMG_LEN, FILE_SIZE, &info) == 0);
	KT_EXPECT(t, info.phdr_addr == 0x400040);
}

KTEST(elf_good_dyn, "elf: a static-PIE ET_DYN is accepted and placed at ELF_ET_DYN_BASE")
{
	struct elf_info info;

	build(ET_DYN, 0);
	buf.img.ph[3].p_flags |= PF_X;
	KT_EXPECT(t, elf_check(&buf, IMG_LEN, FILE_SIZE, &info) == 0);
	KT_EXPECT(t, info.type == ET_DYN && info.load_bias == ELF_ET_DYN_BASE);
	KT_EXPECT(t, info.entry == ELF_ET_DYN_BASE + 0x1040);
	KT_EXPECT(t, info.phdr_addr == ELF_ET_DYN_BASE + 64);
	KT_EXPECT(t, info.load_start == ELF_ET_DYN_BASE);
	KT_EXPECT(t, info.stack_exec);
}

KTEST(elf_bad_ident, "elf: truncated files, wrong magic, class, data, version are refused")
{
	struct elf_info info;

	build(ET_EXEC, 0x400000);
	KT_EXPECT(t, elf_check(&buf, 63, FILE_SIZE, &info) == -ENOEXEC);
	KT_EXPECT(t, elf_check(&buf, IMG_LEN, 63, &info) == -ENOEXEC);
	buf.img.eh.e_ident[1] = 'X';
	KT_EXPECT(t, check() == -ENOEXEC);
	build(ET_EXEC, 0x400000);
	buf.img.eh.e_ident[EI_CLASS] = 1; // ELFCLASS32
	KT_EXPECT(t, check() == -ENOEXEC);
	build(ET_EXEC, 0x400000);
	buf.img.eh.e_ident[EI_DATA] = 2; // big-endian
	KT_EXPECT(t, check() == -ENOEXEC);
	build(ET_EXEC, 0x400000);
	buf.img.eh.e_version = 0;
	KT_EXPECT(t, check() == -ENOEXEC);
}

KTEST(elf_bad_machine_type, "elf: wrong machine or file type is refused")
{
	build(ET_EXEC, 0x400000);
	buf.img.eh.e_machine = 3; // EM_386
	KT_EXPECT(t, check() == -ENOEXEC);
	build(ET_EXEC, 0x400000);
	buf.img.eh.e_type = 1; // ET_REL
	KT_EXPECT(t, check() == -ENOEXEC);
	build(ET_EXEC, 0x400000);
	buf.img.eh.e_type = 4; // ET_CORE
	KT_EXPECT(t, check() == -ENOEXEC);
}

KTEST(elf_interp_refused, "elf: a PT_INTERP (dynamically linked program) is refused")
{
	build(ET_EXEC, 0x400000);
	buf.img.ph[3] = (Elf64_Phdr){ .p_type = PT_INTERP, .p_offset = 0x200, .p_filesz = 28 };
	KT_EXPECT(t, check() == -ENOEXEC);
}

KTEST(elf_bad_phdr_table, "elf: bad program header tables are refused")
{
	struct elf_info info;

	build(ET_EXEC, 0x400000);
	buf.img.eh.e_phentsize = 32;
	KT_EXPECT(t, check() == -ENOEXEC);
	build(ET_EXEC, 0x400000);
	buf.img.eh.e_phnum = 0;
	KT_EXPECT(t, check() == -ENOEXEC);
	build(ET_EXEC, 0x400000);
	buf.img.eh.e_phnum = 0xffff; // far more than the header buffer holds
	KT_EXPECT(t, check() == -ENOEXEC);
	build(ET_EXEC, 0x400000);
	buf.img.eh.e_phoff = IMG_LEN - 100; // starts inside, ends outside the buffer
	KT_EXPECT(t, check() == -ENOEXEC);
	build(ET_EXEC, 0x400000);
	buf.img.eh.e_phoff = UINT64_MAX - 8; // offset + size wraps around
	KT_EXPECT(t, check() == -ENOEXEC);
	build(ET_EXEC, 0x400000); // the table lies past what was read
	KT_EXPECT(t, elf_check(&buf, 64 + 3 * 56, FILE_SIZE, &info) == -ENOEXEC);
}

KTEST(elf_no_load, "elf: a program without PT_LOAD is refused")
{
	build(ET_EXEC, 0x400000);
	buf.img.ph[1].p_type = PT_NOTE;
	buf.img.ph[2].p_type = PT_NOTE;
	KT_EXPECT(t, check() == -ENOEXEC);
}

KTEST(elf_bad_segments, "elf: filesz > memsz, past EOF, overflow, misalignment are refused")
{
	Elf64_Phdr *ph = build(ET_EXEC, 0x400000);

	ph[2].p_filesz = ph[2].p_memsz + 1;
	KT_EXPECT(t, check() == -ENOEXEC);
	ph = build(ET_EXEC, 0x400000);
	ph[2].p_filesz = FILE_SIZE - 0x1f00 + 1; // one byte past the end of the file
	KT_EXPECT(t, check() == -ENOEXEC);
	ph = build(ET_EXEC, 0x400000);
	ph[2].p_offset = UINT64_MAX - 0xff; // offset + filesz wraps, same page offset
	KT_EXPECT(t, check() == -ENOEXEC);
	ph = build(ET_EXEC, 0x400000);
	ph[2].p_memsz = UINT64_MAX; // vaddr + memsz wraps
	KT_EXPECT(t, check() == -ENOEXEC);
	ph = build(ET_EXEC, 0x400000);
	ph[2].p_offset = 0x1f08; // offset and vaddr differ modulo the page size
	KT_EXPECT(t, check() == -ENOEXEC);
}

KTEST(elf_bad_layout, "elf: overlapping, descending or out-of-user-space segments refused")
{
	Elf64_Phdr *ph = build(ET_EXEC, 0x400000);

	ph[2].p_vaddr = 0x401700; // overlaps the text segment's last bytes
	ph[2].p_offset = 0x700;
	KT_EXPECT(t, check() == -ENOEXEC);
	ph = build(ET_EXEC, 0x400000);
	ph[2].p_vaddr = 0x300f00; // below the previous segment
	KT_EXPECT(t, check() == -ENOEXEC);
	ph = build(ET_EXEC, 0x400000);
	ph[2].p_vaddr = VM_USER_TOP - 0x100; // ends in the kernel half
	KT_EXPECT(t, check() == -ENOEXEC);
	build(ET_EXEC, 0); // the first page: below VM_MMAP_MIN
	KT_EXPECT(t, check() == -ENOEXEC);
	build(ET_EXEC, 0x400000);
	buf.img.eh.e_entry = 0x10; // the entry point outside the program
	KT_EXPECT(t, check() == -ENOEXEC);
	// Segments that share a page but no byte are fine (ascending, not overlapping).
	ph = build(ET_EXEC, 0x400000);
	ph[2].p_vaddr = 0x401900;
	ph[2].p_offset = 0x1900;
	KT_EXPECT(t, check() == 0);
}
