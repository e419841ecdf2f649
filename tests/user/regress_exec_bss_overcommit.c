// Regression: exec mapped a program's segments without the checks mmap and brk make, so
// a program with a .bss larger than all of RAM, or larger than RLIMIT_AS, started and ran.
// Linux refuses the memory (and, past exec's point of no return, kills the process);
// Trapeze now fails the execve with ENOMEM. Either way the program must not run.
//
// The programs are written here: one PT_LOAD with code that exits with status 42, and a
// p_memsz far beyond its file part.
#include "tap.h"

#include <elf.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/resource.h>

#define LOAD_ADDR 0x400000UL
#define CODE_OFF 0x100
#define RAN_STATUS 42

static char path[64];

// mov eax, 60 (exit); mov edi, 42; syscall
static const unsigned char exit42[] = { 0xb8, 60, 0, 0, 0, 0xbf, RAN_STATUS, 0, 0, 0, 0x0f, 0x05 };

// Write an executable whose only segment is read-write-execute and memsz bytes long.
static void write_program(uint64_t memsz)
{
	unsigned char img[CODE_OFF + sizeof(exit42)] = { 0 };
	Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
	Elf64_Phdr *ph = (Elf64_Phdr *)(img + sizeof(*eh));
	int fd;

	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_entry = LOAD_ADDR + CODE_OFF;
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = 1;
	ph->p_type = PT_LOAD;
	ph->p_flags = PF_R | PF_W | PF_X;
	ph->p_vaddr = LOAD_ADDR;
	ph->p_filesz = sizeof(img);
	ph->p_memsz = memsz;
	ph->p_align = 4096;
	memcpy(img + CODE_OFF, exit42, sizeof(exit42));
	snprintf(path, sizeof(path), "regress_exec_bss.%d.tmp", (int)getpid());
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	TAP_REQUIRE(fd >= 0);
	TAP_REQUIRE(write(fd, img, sizeof(img)) == (ssize_t)sizeof(img));
	close(fd);
}

// Exec the program in a child, under an address-space limit if as_limit is not 0. Returns
// the wait status; a failed execve exits 101 for ENOMEM, 102 for any other error.
static int run_program(rlim_t as_limit)
{
	pid_t pid = fork();

	TAP_REQUIRE(pid >= 0);
	if (pid == 0) {
		char *argv[] = { path, NULL };
		struct rlimit rl = { as_limit, as_limit };

		if (as_limit && setrlimit(RLIMIT_AS, &rl) != 0)
			_exit(99);
		execve(path, argv, NULL);
		_exit(errno == ENOMEM ? 101 : 102);
	}
	return tap_wait(pid);
}

static void check_did_not_run(int status)
{
	char buf[64];

	tap_diag("status: %s", tap_status_str(status, buf, sizeof(buf)));
	TAP_CHECK(!(WIFEXITED(status) && WEXITSTATUS(status) == RAN_STATUS));
	// Trapeze: ENOMEM from execve; Linux: killed after the point of no return.
	TAP_CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 101) || WIFSIGNALED(status));
}

static void test_bss_larger_than_ram(void)
{
	write_program(1UL << 40); // 1 TiB
	check_did_not_run(run_program(0));
	unlink(path);
}

static void test_bss_past_rlimit_as(void)
{
	write_program(256UL << 20);
	check_did_not_run(run_program(64UL << 20));
	// The same program runs without the limit.
	TAP_CHECK_EQ(run_program(0), RAN_STATUS << 8);
	unlink(path);
}

static const struct tap_test tests[] = {
	{ "a program whose .bss is larger than RAM does not run", test_bss_larger_than_ram },
	{ "a program whose .bss is past RLIMIT_AS does not run", test_bss_past_rlimit_as },
};

int main(void)
{
	return tap_run(tests, TAP_COUNT(tests));
}
