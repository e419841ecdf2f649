// ELF64 as exec needs it: the file header, program headers, auxiliary vector tags, and the
// validation of an executable's headers (kernel/elf.c). Only static x86-64 programs are
// loaded: ET_EXEC at its link addresses, ET_DYN (static-PIE) at ELF_ET_DYN_BASE.
// Field layouts: the System V gABI and the x86-64 psABI.
#pragma once

#include <trapeze/types.h>

typedef uint64_t Elf64_Addr;
typedef uint64_t Elf64_Off;
typedef uint16_t Elf64_Half;
typedef uint32_t Elf64_Word;
typedef uint64_t Elf64_Xword;

#define EI_NIDENT 16
#define EI_CLASS 4
#define EI_DATA 5
#define EI_VERSION 6
#define ELFMAG "\177ELF"
#define SELFMAG 4
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define EV_CURRENT 1

#define ET_EXEC 2
#define ET_DYN 3
#define EM_X86_64 62

typedef struct {
	unsigned char e_ident[EI_NIDENT];
	Elf64_Half e_type;
	Elf64_Half e_machine;
	Elf64_Word e_version;
	Elf64_Addr e_entry;
	Elf64_Off e_phoff;
	Elf64_Off e_shoff;
	Elf64_Word e_flags;
	Elf64_Half e_ehsize;
	Elf64_Half e_phentsize;
	Elf64_Half e_phnum;
	Elf64_Half e_shentsize;
	Elf64_Half e_shnum;
	Elf64_Half e_shstrndx;
} Elf64_Ehdr;

#define PT_NULL 0
#define PT_LOAD 1
#define PT_DYNAMIC 2
#define PT_INTERP 3
#define PT_NOTE 4
#define PT_PHDR 6
#define PT_TLS 7
#define PT_GNU_STACK 0x6474e551

#define PF_X 0x1
#define PF_W 0x2
#define PF_R 0x4

typedef struct {
	Elf64_Word p_type;
	Elf64_Word p_flags;
	Elf64_Off p_offset;
	Elf64_Addr p_vaddr;
	Elf64_Addr p_paddr;
	Elf64_Xword p_filesz;
	Elf64_Xword p_memsz;
	Elf64_Xword p_align;
} Elf64_Phdr;

_Static_assert(sizeof(Elf64_Ehdr) == 64, "ELF64 file header is 64 bytes");
_Static_assert(sizeof(Elf64_Phdr) == 56, "ELF64 program header is 56 bytes");

// Auxiliary vector tags (the initial stack's auxv; Linux include/uapi/linux/auxvec.h).
#define AT_NULL 0
#define AT_PHDR 3
#define AT_PHENT 4
#define AT_PHNUM 5
#define AT_PAGESZ 6
#define AT_BASE 7
#define AT_FLAGS 8
#define AT_ENTRY 9
#define AT_UID 11
#define AT_EUID 12
#define AT_GID 13
#define AT_EGID 14
#define AT_PLATFORM 15
#define AT_HWCAP 16
#define AT_CLKTCK 17
#define AT_SECURE 23
#define AT_RANDOM 25
#define AT_HWCAP2 26
#define AT_EXECFN 31

// Where a static-PIE (ET_DYN) program's lowest segment is placed (Linux's value for
// x86-64 without randomisation, 2/3 of the 47-bit space, page-aligned).
#define ELF_ET_DYN_BASE 0x555555554000UL
// Program headers beyond this many are refused (they must fit in exec's first page).
#define ELF_MAX_PHNUM ((4096 - sizeof(Elf64_Ehdr)) / sizeof(Elf64_Phdr))

// What exec needs from a validated header. Addresses include the load bias.
struct elf_info {
	unsigned int type;     // ET_EXEC or ET_DYN
	uint64_t load_bias;    // added to every p_vaddr: 0 for ET_EXEC
	uint64_t entry;        // where the program starts
	uint64_t phdr_addr;    // where the program headers appear in memory (AT_PHDR)
	unsigned int phnum;
	uint64_t phoff;        // file offset of the program headers
	uint64_t load_start;   // lowest PT_LOAD address, page-aligned down
	uint64_t load_end;     // end of the highest PT_LOAD (p_vaddr + p_memsz), unaligned
	bool stack_exec;       // PT_GNU_STACK asks for an executable stack
};

// Validate an executable's headers: hdr holds the first hdr_len bytes of a file of
// file_size bytes. Checks the identification (magic, ELFCLASS64, little-endian,
// EV_CURRENT), EM_X86_64, ET_EXEC or ET_DYN, the program header table (entry size, inside
// hdr_len), and every PT_LOAD (p_filesz <= p_memsz, file range inside the file, no
// address overflow, inside user space, p_offset and p_vaddr congruent modulo the page
// size, ascending and not overlapping); at least one PT_LOAD; no PT_INTERP (dynamically
// linked programs are not supported); an entry point inside the loaded range.
// Returns 0 and fills *info, or -ENOEXEC. Context: any; pure function.
int elf_check(const void *hdr, size_t hdr_len, uint64_t file_size, struct elf_info *info);
// Copy program header i (i < info->phnum) of a header elf_check accepted.
void elf_phdr_get(const void *hdr, const struct elf_info *info, unsigned int i,
		  Elf64_Phdr *out);
