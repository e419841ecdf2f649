// ACPI table discovery: just enough to set up interrupts and time. We find the RSDP (from
// the boot loader or by scanning the BIOS areas), walk the XSDT or RSDT, and read two
// tables: the MADT ("APIC": local APIC address, I/O APICs, ISA interrupt overrides, CPUs,
// LAPIC NMI wiring) and the FADT ("FACP": the CMOS century register). Everything is
// copied into acpi_info; no ACPI table is touched after acpi_init() returns.
// Formats: ACPI 6.x specification, sections 5.2.5 (RSDP), 5.2.6 (headers), 5.2.12 (MADT),
// 5.2.9 (FADT). All multi-byte fields are little-endian and may be unaligned.
// Context: boot only, one CPU, interrupts off; no locks.

#include <asm/acpi.h>
#include <asm/irq.h>
#include <asm/paging.h>
#include <asm/x86.h>
#include <trapeze/boot.h>
#include <trapeze/mm.h>
#include <trapeze/printk.h>
#include <trapeze/string.h>
#include <uapi/errno.h>

struct acpi_rsdp {
	char signature[8]; // "RSD PTR "
	uint8_t checksum;  // covers the first 20 bytes (the ACPI 1.0 structure)
	char oem_id[6];
	uint8_t revision; // 0: ACPI 1.0, only rsdt_addr is valid; >= 2: the rest too
	uint32_t rsdt_addr;
	uint32_t length;
	uint64_t xsdt_addr;
	uint8_t ext_checksum; // covers all length bytes
	uint8_t reserved[3];
} __packed;

#define ACPI_RSDP_V1_LEN 20

struct acpi_header {
	char signature[4];
	uint32_t length; // of the whole table, header included
	uint8_t revision;
	uint8_t checksum; // all length bytes sum to 0
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
} __packed;

struct acpi_madt {
	struct acpi_header hdr;
	uint32_t lapic_addr;
	uint32_t flags;
	uint8_t entries[]; // variable-length records up to hdr.length
} __packed;

#define MADT_PCAT_COMPAT (1U << 0)

enum madt_type {
	MADT_LAPIC = 0,
	MADT_IOAPIC = 1,
	MADT_OVERRIDE = 2,
	MADT_LAPIC_NMI = 4,
	MADT_LAPIC_ADDR = 5,
	MADT_X2APIC = 9,
};

struct madt_lapic {
	uint8_t type, length;
	uint8_t uid; // ACPI processor UID
	uint8_t apic_id;
	uint32_t flags;
} __packed;

struct madt_ioapic {
	uint8_t type, length;
	uint8_t id;
	uint8_t reserved;
	uint32_t addr;
	uint32_t gsi_base;
} __packed;

struct madt_override {
	uint8_t type, length;
	uint8_t bus; // 0: ISA
	uint8_t source; // ISA IRQ
	uint32_t gsi;
	uint16_t flags; // MPS INTI flags
} __packed;

struct madt_lapic_nmi {
	uint8_t type, length;
	uint8_t uid; // 0xff: every processor
	uint16_t flags;
	uint8_t lint; // 0 or 1
} __packed;

struct madt_lapic_addr {
	uint8_t type, length;
	uint16_t reserved;
	uint64_t addr;
} __packed;

struct madt_x2apic {
	uint8_t type, length;
	uint16_t reserved;
	uint32_t x2apic_id;
	uint32_t flags;
	uint32_t uid;
} __packed;

#define MADT_CPU_ENABLED (1U << 0)
#define MADT_UID_ALL 0xff

// MPS INTI flags (overrides and NMI sources): "conforms to the bus" means, for ISA,
// active-high and edge-triggered.
#define INTI_POLARITY_MASK 0x3
#define INTI_ACTIVE_LOW 0x3
#define INTI_TRIGGER_MASK 0xc
#define INTI_LEVEL 0xc

#define FADT_CENTURY_OFFSET 108
#define ACPI_TABLE_MAX_LEN (1U << 20) // a longer MADT or FADT means a corrupt header

#define BDA_EBDA_SEGMENT 0x40e // BIOS data area word: EBDA segment
#define EBDA_SCAN_LEN 1024
#define BIOS_ROM_START 0xe0000
#define BIOS_F_SEGMENT 0xf0000
#define BIOS_ROM_END 0x100000
#define FOUR_GIB 0x100000000UL
// Every PC with an I/O APIC wires the 8254 (ISA IRQ 0) to input 2; input 0 carries the
// 8259's ExtINT. ACPI firmware states this as an override; without a MADT we assume it.
#define PC_PIT_GSI 2

struct acpi_info acpi_info;

static const struct acpi_header *acpi_root; // the XSDT or RSDT
static bool acpi_root_is_xsdt;

// True if the boot memory map lists pa in a region the direct map covers: paging_init maps
// usable RAM everywhere and every listed region below 4 GiB.
static bool phys_in_direct_map(phys_addr_t pa)
{
	for (int i = 0; i < boot_info.nr_regions; i++) {
		const struct mem_region *r = &boot_info.regions[i];

		if (pa < r->base || pa - r->base >= r->len)
			continue;
		if (r->type == MEM_USABLE || pa < FOUR_GIB)
			return true;
	}
	return false;
}

// A kernel pointer to len bytes at pa. ACPI tables live in RAM the memory map lists; the
// BIOS ROM area scanned for the RSDP may be a hole in the map and then needs ioremap.
static const void *acpi_map(phys_addr_t pa, size_t len)
{
	phys_addr_t page;

	if (phys_in_direct_map(pa) && phys_in_direct_map(pa + len - 1))
		return phys_to_virt(pa);
	page = ALIGN_DOWN(pa, PAGE_SIZE);
	return (const char *)ioremap(page, len + (pa - page)) + (pa - page);
}

static bool acpi_checksum_ok(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum += b[i];
	return sum == 0;
}

static bool rsdp_valid(const struct acpi_rsdp *r)
{
	if (memcmp(r->signature, "RSD PTR ", 8) != 0)
		return false;
	if (!acpi_checksum_ok(r, ACPI_RSDP_V1_LEN))
		return false;
	if (r->revision >= 2)
		return r->length >= sizeof(*r) && acpi_checksum_ok(r, sizeof(*r));
	return true;
}

// The RSDP sits on a 16-byte boundary somewhere in [pa, pa + len).
static const struct acpi_rsdp *rsdp_scan(phys_addr_t pa, size_t len)
{
	const uint8_t *p = acpi_map(pa, len);

	for (size_t off = 0; off + sizeof(struct acpi_rsdp) <= len; off += 16) {
		const struct acpi_rsdp *r = (const struct acpi_rsdp *)(p + off);

		if (rsdp_valid(r))
			return r;
	}
	return NULL;
}

static const struct acpi_rsdp *rsdp_find(void)
{
	const struct acpi_rsdp *r;
	phys_addr_t ebda;

	if (boot_info.rsdp) {
		r = acpi_map(boot_info.rsdp, sizeof(*r));
		if (rsdp_valid(r))
			return r;
		pr_warn("acpi: RSDP from the boot loader is invalid; scanning\n");
	}
	ebda = (phys_addr_t)*(const uint16_t *)acpi_map(BDA_EBDA_SEGMENT, 2) << 4;
	if (ebda >= 0x80000 && ebda < 0xa0000) {
		r = rsdp_scan(ebda, EBDA_SCAN_LEN);
		if (r)
			return r;
	}
	// The F segment first: firmware (SeaBIOS included) normally puts the RSDP there, and
	// it is listed in the memory map, so the E segment (often a hole) is seldom mapped.
	r = rsdp_scan(BIOS_F_SEGMENT, BIOS_ROM_END - BIOS_F_SEGMENT);
	if (r)
		return r;
	return rsdp_scan(BIOS_ROM_START, BIOS_F_SEGMENT - BIOS_ROM_START);
}

// Map the table at pa and check its length and checksum; NULL if it is not a valid table.
static const struct acpi_header *acpi_table_map(phys_addr_t pa)
{
	const struct acpi_header *h;
	uint32_t len;

	if (!pa)
		return NULL;
	h = acpi_map(pa, sizeof(*h));
	len = h->length;
	if (len < sizeof(*h) || len > ACPI_TABLE_MAX_LEN)
		return NULL;
	h = acpi_map(pa, len);
	if (!acpi_checksum_ok(h, len))
		return NULL;
	return h;
}

// The first valid table with signature sig listed in the root table, or NULL.
static const struct acpi_header *acpi_table_find(const char sig[4])
{
	size_t entry_size = acpi_root_is_xsdt ? 8 : 4;
	size_t n = (acpi_root->length - sizeof(*acpi_root)) / entry_size;
	const uint8_t *entries = (const uint8_t *)(acpi_root + 1);

	for (size_t i = 0; i < n; i++) {
		uint64_t pa = 0;
		const struct acpi_header *h;

		memcpy(&pa, entries + i * entry_size, entry_size); // little-endian, unaligned
		if (pa == 0)
			continue;
		h = acpi_map(pa, sizeof(*h));
		if (memcmp(h->signature, sig, 4) != 0)
			continue;
		h = acpi_table_map(pa);
		if (h)
			return h;
		pr_warn("acpi: table %.4s at %#lx has a bad checksum\n", sig, (unsigned long)pa);
	}
	return NULL;
}

static int acpi_root_find(void)
{
	const struct acpi_rsdp *rsdp = rsdp_find();

	if (!rsdp)
		return -ENOENT;
	if (rsdp->revision >= 2 && rsdp->xsdt_addr) {
		acpi_root = acpi_table_map(rsdp->xsdt_addr);
		acpi_root_is_xsdt = true;
		if (acpi_root && memcmp(acpi_root->signature, "XSDT", 4) == 0)
			return 0;
	}
	acpi_root = acpi_table_map(rsdp->rsdt_addr);
	acpi_root_is_xsdt = false;
	if (acpi_root && memcmp(acpi_root->signature, "RSDT", 4) == 0)
		return 0;
	acpi_root = NULL;
	return -EINVAL;
}

// The PC/AT wiring, used as the starting point and when there is no MADT.
static void acpi_set_defaults(void)
{
	acpi_info.lapic_addr = ACPI_DEFAULT_LAPIC_ADDR;
	acpi_info.pcat_compat = true;
	acpi_info.nr_cpus = 0;
	acpi_info.nr_ioapics = 0;
	for (int irq = 0; irq < ACPI_ISA_IRQS; irq++)
		acpi_info.isa[irq] = (struct acpi_isa_route){ .gsi = irq };
	acpi_info.nmi_lint = -1;
}

static void acpi_add_default_ioapic(void)
{
	acpi_info.ioapics[0] = (struct acpi_ioapic){ .addr = ACPI_DEFAULT_IOAPIC_ADDR };
	acpi_info.nr_ioapics = 1;
}

static void madt_add_cpu(uint32_t apic_id, uint32_t flags)
{
	if (!(flags & MADT_CPU_ENABLED))
		return;
	if (acpi_info.nr_cpus == ACPI_MAX_CPUS) {
		pr_warn("acpi: more than %d CPUs; ignoring APIC id %u\n", ACPI_MAX_CPUS, apic_id);
		return;
	}
	acpi_info.cpu_apic_ids[acpi_info.nr_cpus++] = apic_id;
}

static void madt_add_ioapic(const struct madt_ioapic *e)
{
	if (acpi_info.nr_ioapics == ACPI_MAX_IOAPICS) {
		pr_warn("acpi: more than %d I/O APICs; ignoring id %u\n", ACPI_MAX_IOAPICS, e->id);
		return;
	}
	acpi_info.ioapics[acpi_info.nr_ioapics++] = (struct acpi_ioapic){
		.id = e->id,
		.addr = e->addr,
		.gsi_base = e->gsi_base,
	};
}

static void madt_add_override(const struct madt_override *e)
{
	if (e->bus != 0 || e->source >= ACPI_ISA_IRQS)
		return; // only ISA sources exist on a PC
	acpi_info.isa[e->source] = (struct acpi_isa_route){
		.gsi = e->gsi,
		.active_low = (e->flags & INTI_POLARITY_MASK) == INTI_ACTIVE_LOW,
		.level = (e->flags & INTI_TRIGGER_MASK) == INTI_LEVEL,
	};
}

// An NMI entry matters to us if it names every processor or the boot CPU.
static void madt_add_nmi(const struct madt_lapic_nmi *e, int boot_uid)
{
	if (e->uid != MADT_UID_ALL && e->uid != boot_uid)
		return;
	if (e->lint > 1)
		return;
	acpi_info.nmi_lint = e->lint;
	acpi_info.nmi_active_low = (e->flags & INTI_POLARITY_MASK) == INTI_ACTIVE_LOW;
	acpi_info.nmi_level = (e->flags & INTI_TRIGGER_MASK) == INTI_LEVEL;
}

// The minimum record length for each type we read; shorter records are corrupt.
static size_t madt_min_len(uint8_t type)
{
	switch (type) {
	case MADT_LAPIC: return sizeof(struct madt_lapic);
	case MADT_IOAPIC: return sizeof(struct madt_ioapic);
	case MADT_OVERRIDE: return sizeof(struct madt_override);
	case MADT_LAPIC_NMI: return sizeof(struct madt_lapic_nmi);
	case MADT_LAPIC_ADDR: return sizeof(struct madt_lapic_addr);
	case MADT_X2APIC: return sizeof(struct madt_x2apic);
	default: return 2;
	}
}

static void madt_record(const uint8_t *e, int boot_uid)
{
	switch (e[0]) {
	case MADT_LAPIC:
		madt_add_cpu(((const struct madt_lapic *)e)->apic_id,
			     ((const struct madt_lapic *)e)->flags);
		break;
	case MADT_X2APIC:
		madt_add_cpu(((const struct madt_x2apic *)e)->x2apic_id,
			     ((const struct madt_x2apic *)e)->flags);
		break;
	case MADT_IOAPIC:
		madt_add_ioapic((const struct madt_ioapic *)e);
		break;
	case MADT_OVERRIDE:
		madt_add_override((const struct madt_override *)e);
		break;
	case MADT_LAPIC_NMI:
		madt_add_nmi((const struct madt_lapic_nmi *)e, boot_uid);
		break;
	case MADT_LAPIC_ADDR:
		acpi_info.lapic_addr = ((const struct madt_lapic_addr *)e)->addr;
		break;
	}
}

// The running CPU's initial APIC id, from CPUID (the local APIC is not mapped yet).
static uint8_t cpuid_apic_id(void)
{
	uint32_t a, b, c, d;

	cpuid(1, 0, &a, &b, &c, &d);
	return b >> 24;
}

// The ACPI processor UID of the boot CPU (needed to match NMI records), or -1.
static int madt_boot_uid(const struct acpi_madt *madt)
{
	const uint8_t *p = madt->entries, *end = (const uint8_t *)madt + madt->hdr.length;
	uint8_t boot_id = cpuid_apic_id();

	for (; p + 2 <= end && p[1] >= 2 && p + p[1] <= end; p += p[1]) {
		const struct madt_lapic *e = (const struct madt_lapic *)p;

		if (e->type == MADT_LAPIC && e->length >= sizeof(*e) && e->apic_id == boot_id)
			return e->uid;
	}
	return -1;
}

static void madt_parse(const struct acpi_madt *madt)
{
	const uint8_t *p = madt->entries, *end = (const uint8_t *)madt + madt->hdr.length;
	int boot_uid = madt_boot_uid(madt);

	if (madt->lapic_addr)
		acpi_info.lapic_addr = madt->lapic_addr;
	acpi_info.pcat_compat = madt->flags & MADT_PCAT_COMPAT;
	while (p + 2 <= end) {
		uint8_t len = p[1];

		if (len < madt_min_len(p[0]) || p + len > end) {
			pr_warn("acpi: MADT record of type %u at offset %ld is corrupt\n", p[0],
				(long)(p - (const uint8_t *)madt));
			break;
		}
		madt_record(p, boot_uid);
		p += len;
	}
}

static void fadt_parse(const struct acpi_header *fadt)
{
	if (fadt->length > FADT_CENTURY_OFFSET)
		acpi_info.rtc_century_reg = ((const uint8_t *)fadt)[FADT_CENTURY_OFFSET];
}

void acpi_init(void)
{
	const struct acpi_header *madt = NULL, *fadt;

	acpi_set_defaults();
	if (acpi_root_find() == 0)
		madt = acpi_table_find("APIC");
	if (!madt) {
		pr_warn("acpi: no valid MADT; assuming LAPIC at %#lx, I/O APIC at %#lx, "
			"ISA IRQ 0 on GSI 2, the rest identity-mapped\n", ACPI_DEFAULT_LAPIC_ADDR,
			ACPI_DEFAULT_IOAPIC_ADDR);
		acpi_add_default_ioapic();
		acpi_info.isa[0].gsi = PC_PIT_GSI;
		madt_add_cpu(cpuid_apic_id(), MADT_CPU_ENABLED);
		return;
	}
	acpi_info.madt_found = true;
	madt_parse((const struct acpi_madt *)madt);
	if (acpi_info.nr_ioapics == 0) {
		pr_warn("acpi: MADT lists no I/O APIC; assuming one at %#lx\n",
			ACPI_DEFAULT_IOAPIC_ADDR);
		acpi_add_default_ioapic();
	}
	if (acpi_info.nr_cpus == 0)
		madt_add_cpu(cpuid_apic_id(), MADT_CPU_ENABLED);
	fadt = acpi_table_find("FACP");
	if (fadt)
		fadt_parse(fadt);
	pr_info("acpi: %d CPU(s), local APIC at %#lx, %d I/O APIC(s), first id %u at %#lx "
		"with GSI base %u\n", acpi_info.nr_cpus, (unsigned long)acpi_info.lapic_addr,
		acpi_info.nr_ioapics, acpi_info.ioapics[0].id,
		(unsigned long)acpi_info.ioapics[0].addr, acpi_info.ioapics[0].gsi_base);
}
