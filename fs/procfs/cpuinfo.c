// /proc/cpuinfo: what CPUID says about the (one) processor, in Linux's layout.
//
// The flags are the CPUID feature bits under the names Linux gives them
// (arch/x86/include/asm/cpufeatures.h); Linux's synthetic flags (constant_tsc, nopl...)
// and its "bugs" line are not produced. "cpu MHz" is the calibrated TSC frequency and
// "bogomips" Linux's value for it (twice the MHz, from the TSC's loops per jiffy).
// Context: process context; CPUID runs on the reading CPU (all CPUs are alike).

#include <trapeze/procfs.h>
#include <trapeze/string.h>
#include <asm/irq.h>
#include <asm/x86.h>

// One CPUID output register and the names of its feature bits.
struct cpu_flag_reg {
	uint32_t leaf;
	int reg; // 0 ebx, 1 ecx, 2 edx
	const char *names[32];
};

static const struct cpu_flag_reg cpu_flag_regs[] = {
	{ 1, 2, { [0] = "fpu", [1] = "vme", [2] = "de", [3] = "pse", [4] = "tsc", [5] = "msr",
		  [6] = "pae", [7] = "mce", [8] = "cx8", [9] = "apic", [11] = "sep", [12] = "mtrr",
		  [13] = "pge", [14] = "mca", [15] = "cmov", [16] = "pat", [17] = "pse36",
		  [18] = "pn", [19] = "clflush", [21] = "dts", [22] = "acpi", [23] = "mmx",
		  [24] = "fxsr", [25] = "sse", [26] = "sse2", [27] = "ss", [28] = "ht", [29] = "tm",
		  [30] = "ia64", [31] = "pbe" } },
	{ 0x80000001, 2, { [11] = "syscall", [19] = "mp", [20] = "nx", [22] = "mmxext",
			   [25] = "fxsr_opt", [26] = "pdpe1gb", [27] = "rdtscp", [29] = "lm",
			   [30] = "3dnowext", [31] = "3dnow" } },
	{ 1, 1, { [0] = "pni", [1] = "pclmulqdq", [2] = "dtes64", [3] = "monitor",
		  [4] = "ds_cpl", [5] = "vmx", [6] = "smx", [7] = "est", [8] = "tm2",
		  [9] = "ssse3", [10] = "cid", [11] = "sdbg", [12] = "fma", [13] = "cx16",
		  [14] = "xtpr", [15] = "pdcm", [17] = "pcid", [18] = "dca", [19] = "sse4_1",
		  [20] = "sse4_2", [21] = "x2apic", [22] = "movbe", [23] = "popcnt",
		  [24] = "tsc_deadline_timer", [25] = "aes", [26] = "xsave", [28] = "avx",
		  [29] = "f16c", [30] = "rdrand", [31] = "hypervisor" } },
	{ 0x80000001, 1, { [0] = "lahf_lm", [1] = "cmp_legacy", [2] = "svm", [3] = "extapic",
			   [4] = "cr8_legacy", [5] = "abm", [6] = "sse4a", [7] = "misalignsse",
			   [8] = "3dnowprefetch", [9] = "osvw", [10] = "ibs", [11] = "xop",
			   [12] = "skinit", [13] = "wdt", [15] = "lwp", [16] = "fma4", [17] = "tce",
			   [19] = "nodeid_msr", [21] = "tbm", [22] = "topoext",
			   [23] = "perfctr_core", [24] = "perfctr_nb", [26] = "bpext",
			   [28] = "perfctr_llc", [29] = "mwaitx" } },
	{ 7, 0, { [0] = "fsgsbase", [1] = "tsc_adjust", [2] = "sgx", [3] = "bmi1", [4] = "hle",
		  [5] = "avx2", [7] = "smep", [8] = "bmi2", [9] = "erms", [10] = "invpcid",
		  [11] = "rtm", [12] = "cqm", [14] = "mpx", [15] = "rdt_a", [16] = "avx512f",
		  [17] = "avx512dq", [18] = "rdseed", [19] = "adx", [20] = "smap",
		  [21] = "avx512ifma", [23] = "clflushopt", [24] = "clwb", [25] = "intel_pt",
		  [26] = "avx512pf", [27] = "avx512er", [28] = "avx512cd", [29] = "sha_ni",
		  [30] = "avx512bw", [31] = "avx512vl" } },
	{ 7, 1, { [1] = "avx512vbmi", [2] = "umip", [3] = "pku", [4] = "ospke", [5] = "waitpkg",
		  [6] = "avx512_vbmi2", [8] = "gfni", [9] = "vaes", [10] = "vpclmulqdq",
		  [11] = "avx512_vnni", [12] = "avx512_bitalg", [14] = "avx512_vpopcntdq",
		  [16] = "la57", [22] = "rdpid", [25] = "cldemote", [27] = "movdiri",
		  [28] = "movdir64b" } },
	{ 7, 2, { [2] = "avx512_4vnniw", [3] = "avx512_4fmaps", [4] = "fsrm",
		  [8] = "avx512_vp2intersect", [10] = "md_clear", [14] = "serialize",
		  [16] = "tsxldtrk", [18] = "pconfig",
		  [19] = "arch_lbr", [20] = "ibt", [22] = "amx_bf16", [23] = "avx512_fp16",
		  [24] = "amx_tile", [25] = "amx_int8", [28] = "flush_l1d",
		  [29] = "arch_capabilities" } },
};

// The CPUID registers this file reads, fetched once.
struct cpu_ids {
	uint32_t max_leaf, max_ext;
	uint32_t l1[4];  // leaf 1: eax ebx ecx edx
	uint32_t l7[4];  // leaf 7, subleaf 0
	uint32_t e1[4];  // 0x80000001
	uint32_t e8[4];  // 0x80000008: address sizes
	uint32_t e6[4];  // 0x80000006: L2 cache
	char vendor[13];
	char model_name[49];
};

static void cpuid_regs(uint32_t leaf, uint32_t *r)
{
	cpuid(leaf, 0, &r[0], &r[1], &r[2], &r[3]);
}

static void cpu_ids_read(struct cpu_ids *c)
{
	uint32_t r[4];

	memset(c, 0, sizeof(*c));
	cpuid_regs(0, r);
	c->max_leaf = r[0];
	memcpy(c->vendor, &r[1], 4); // the vendor string is in ebx, edx, ecx
	memcpy(c->vendor + 4, &r[3], 4);
	memcpy(c->vendor + 8, &r[2], 4);
	cpuid_regs(1, c->l1);
	if (c->max_leaf >= 7)
		cpuid_regs(7, c->l7);
	cpuid_regs(0x80000000, r);
	c->max_ext = r[0];
	if (c->max_ext >= 0x80000001)
		cpuid_regs(0x80000001, c->e1);
	if (c->max_ext >= 0x80000004) {
		for (uint32_t i = 0; i < 3; i++)
			cpuid_regs(0x80000002 + i, (uint32_t *)(c->model_name + 16 * i));
	}
	if (c->max_ext >= 0x80000006)
		cpuid_regs(0x80000006, c->e6);
	if (c->max_ext >= 0x80000008)
		cpuid_regs(0x80000008, c->e8);
}

static uint32_t cpu_flag_word(const struct cpu_ids *c, const struct cpu_flag_reg *fr)
{
	const uint32_t *regs = fr->leaf == 1 ? c->l1 : fr->leaf == 7 ? c->l7 : c->e1;

	return regs[1 + fr->reg];
}

static void cpuinfo_flags(struct proc_buf *pb, const struct cpu_ids *c)
{
	proc_printf(pb, "flags\t\t:");
	for (size_t i = 0; i < ARRAY_SIZE(cpu_flag_regs); i++) {
		uint32_t word = cpu_flag_word(c, &cpu_flag_regs[i]);

		for (int bit = 0; bit < 32; bit++) {
			const char *name = cpu_flag_regs[i].names[bit];

			if (name && (word & (1u << bit)))
				proc_printf(pb, " %s", name);
		}
	}
	proc_printf(pb, "\n");
}

// Family, model and stepping with the extended fields folded in, as Linux computes them.
static void cpuinfo_identity(struct proc_buf *pb, const struct cpu_ids *c)
{
	uint32_t eax = c->l1[0];
	uint32_t family = (eax >> 8) & 0xf, model = (eax >> 4) & 0xf;
	const char *name = c->model_name;

	if (family == 0xf)
		family += (eax >> 20) & 0xff;
	if (family >= 6)
		model += ((eax >> 16) & 0xf) << 4;
	while (*name == ' ')
		name++;
	proc_printf(pb, "processor\t: 0\nvendor_id\t: %s\ncpu family\t: %u\nmodel\t\t: %u\n",
		    c->vendor, family, model);
	proc_printf(pb, "model name\t: %s\nstepping\t: %u\n", *name ? name : "unknown",
		    eax & 0xf);
}

int proc_cpuinfo_show(struct proc_buf *pb, pid_t pid)
{
	struct cpu_ids c;
	unsigned long khz = (unsigned long)tsc_khz, bogo = 2 * khz / 10; // hundredths

	cpu_ids_read(&c);
	cpuinfo_identity(pb, &c);
	proc_printf(pb, "cpu MHz\t\t: %lu.%03lu\n", khz / 1000, khz % 1000);
	if (c.e6[2] >> 16)
		proc_printf(pb, "cache size\t: %u KB\n", c.e6[2] >> 16);
	proc_printf(pb, "physical id\t: 0\nsiblings\t: 1\ncore id\t\t: 0\ncpu cores\t: 1\n");
	proc_printf(pb, "apicid\t\t: %u\ninitial apicid\t: %u\n", c.l1[1] >> 24, c.l1[1] >> 24);
	proc_printf(pb, "fpu\t\t: yes\nfpu_exception\t: yes\ncpuid level\t: %u\nwp\t\t: yes\n",
		    c.max_leaf);
	cpuinfo_flags(pb, &c);
	proc_printf(pb, "bogomips\t: %lu.%02lu\n", bogo / 100, bogo % 100);
	proc_printf(pb, "clflush size\t: %u\ncache_alignment\t: %u\n", ((c.l1[1] >> 8) & 0xff) * 8,
		    ((c.l1[1] >> 8) & 0xff) * 8);
	if (c.e8[0])
		proc_printf(pb, "address sizes\t: %u bits physical, %u bits virtual\n",
			    c.e8[0] & 0xff, (c.e8[0] >> 8) & 0xff);
	proc_printf(pb, "power management:\n\n");
	return 0;
}
