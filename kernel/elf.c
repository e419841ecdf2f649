// Validation of ELF64 executables before exec commits to them. Everything read from the
// file is untrusted: every size and offset is checked for overflow before it is used, and
// headers are copied out with memcpy because the file need not align them.
// Context: any; no state, no allocation.
#include <trapeze/elf.h>
#include <trapeze/string.h>
#include <trapeze/vm.h>
#include <uapi/errno.h>

// What the program-header scan has seen so far. Addresses are unbiased (as in the file).
struct elf_scan {
	bool have_load;
	uint64_t lo, hi;               // [first PT_LOAD's p_vaddr, last one's p_vaddr + p_memsz)
	uint64_t first_vaddr, first_offset;
	bool have_pt_phdr, have_covering;
	uint64_t pt_phdr_vaddr;        // from PT_PHDR
	uint64_t covering_vaddr;       // from the PT_LOAD whose file part holds the table
	bool stack_exec;
};

static int elf_check_ident(const Elf64_Ehdr *eh)
{
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
		return -ENOEXEC;
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh->e_ident[EI_VERSION] != EV_CURRENT || eh->e_version != EV_CURRENT)
		return -ENOEXEC;
	if (eh->e_machine != EM_X86_64 || (eh->e_type != ET_EXEC && eh->e_type != ET_DYN))
		return -ENOEXEC;
	return 0;
}

// The program header table must lie inside the bytes we hold and inside the file.
static int elf_check_phtab(const Elf64_Ehdr *eh, size_t hdr_len, uint64_t file_size)
{
	uint64_t size = (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr);

	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 ||
	    eh->e_phnum > ELF_MAX_PHNUM)
		return -ENOEXEC;
	if (eh->e_phoff > hdr_len || size > hdr_len - eh->e_phoff)
		return -ENOEXEC;
	if (eh->e_phoff > file_size || size > file_size - eh->e_phoff)
		return -ENOEXEC;
	return 0;
}

static int elf_check_load(const Elf64_Phdr *ph, const Elf64_Ehdr *eh, uint64_t file_size,
			  struct elf_scan *s)
{
	uint64_t table_size = (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr);

	if (ph->p_filesz > ph->p_memsz)
		return -ENOEXEC;
	if (ph->p_offset > file_size || ph->p_filesz > file_size - ph->p_offset)
		return -ENOEXEC;
	if (ph->p_memsz > UINT64_MAX - ph->p_vaddr)
		return -ENOEXEC;
	// A file page can only be mapped at a page with the same offset in it.
	if ((ph->p_offset & (PAGE_SIZE - 1)) != (ph->p_vaddr & (PAGE_SIZE - 1)))
		return -ENOEXEC;
	if (s->have_load && ph->p_vaddr < s->hi)
		return -ENOEXEC; // not ascending, or overlapping the previous segment
	if (!s->have_load) {
		s->lo = ph->p_vaddr;
		s->first_vaddr = ph->p_vaddr;
		s->first_offset = ph->p_offset;
	}
	s->hi = ph->p_vaddr + ph->p_memsz;
	s->have_load = true;
	if (!s->have_covering && ph->p_offset <= eh->e_phoff &&
	    eh->e_phoff - ph->p_offset <= ph->p_filesz &&
	    table_size <= ph->p_filesz - (eh->e_phoff - ph->p_offset)) {
		s->have_covering = true;
		s->covering_vaddr = ph->p_vaddr + (eh->e_phoff - ph->p_offset);
	}
	return 0;
}

static int elf_scan_phdrs(const void *hdr, const Elf64_Ehdr *eh, uint64_t file_size,
			  struct elf_scan *s)
{
	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;
		int err;

		memcpy(&ph, (const char *)hdr + eh->e_phoff + i * sizeof(ph), sizeof(ph));
		switch (ph.p_type) {
		case PT_INTERP:
			return -ENOEXEC; // needs a dynamic loader: not supported
		case PT_LOAD:
			err = elf_check_load(&ph, eh, file_size, s);
			if (err)
				return err;
			break;
		case PT_PHDR:
			s->have_pt_phdr = true;
			s->pt_phdr_vaddr = ph.p_vaddr;
			break;
		case PT_GNU_STACK:
			s->stack_exec = ph.p_flags & PF_X;
			break;
		}
	}
	return s->have_load ? 0 : -ENOEXEC;
}

// Choose the load bias and check that the whole image, biased, lies in user space.
static int elf_place(const Elf64_Ehdr *eh, const struct elf_scan *s, struct elf_info *info)
{
	uint64_t lo_page = ALIGN_DOWN(s->lo, PAGE_SIZE);
	uint64_t size = s->hi - lo_page;
	uint64_t start;

	// Unsigned wrap-around is intended: lo_page + bias == ELF_ET_DYN_BASE.
	info->load_bias = eh->e_type == ET_DYN ? ELF_ET_DYN_BASE - lo_page : 0;
	start = lo_page + info->load_bias;
	if (start < VM_MMAP_MIN || start > VM_USER_TOP || size > VM_USER_TOP - start)
		return -ENOEXEC;
	if (eh->e_entry < s->lo || eh->e_entry >= s->hi)
		return -ENOEXEC;
	info->load_start = start;
	info->load_end = s->hi + info->load_bias;
	info->entry = eh->e_entry + info->load_bias;
	// AT_PHDR: PT_PHDR if present, else the loaded copy of the table, else (as Linux)
	// where the table would be if the file were mapped from its first segment on.
	if (s->have_pt_phdr)
		info->phdr_addr = s->pt_phdr_vaddr + info->load_bias;
	else if (s->have_covering)
		info->phdr_addr = s->covering_vaddr + info->load_bias;
	else
		info->phdr_addr = s->first_vaddr - s->first_offset + eh->e_phoff + info->load_bias;
	return 0;
}

int elf_check(const void *hdr, size_t hdr_len, uint64_t file_size, struct elf_info *info)
{
	struct elf_scan scan = { 0 };
	Elf64_Ehdr eh;
	int err;

	if (hdr_len < sizeof(eh) || file_size < sizeof(eh))
		return -ENOEXEC;
	memcpy(&eh, hdr, sizeof(eh));
	err = elf_check_ident(&eh);
	if (!err)
		err = elf_check_phtab(&eh, hdr_len, file_size);
	if (!err)
		err = elf_scan_phdrs(hdr, &eh, file_size, &scan);
	if (err)
		return err;
	memset(info, 0, sizeof(*info));
	info->type = eh.e_type;
	info->phnum = eh.e_phnum;
	info->phoff = eh.e_phoff;
	info->stack_exec = scan.stack_exec;
	return elf_place(&eh, &scan, info);
}

void elf_phdr_get(const void *hdr, const struct elf_info *info, unsigned int i,
		  Elf64_Phdr *out)
{
	memcpy(out, (const char *)hdr + info->phoff + i * sizeof(*out), sizeof(*out));
}
