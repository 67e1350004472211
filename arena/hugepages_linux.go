package arena

import "syscall"

// hugePagesFrom is the region size from which a mapping asks for huge
// pages. A cache reads its memory at random, so with 4 KiB pages most
// reads of a region past the TLB's reach (about 1.5-2K entries, 6-8 MiB)
// also miss the TLB and pay a page walk. Transparent huge pages (2 MiB)
// cover a 1 GiB cache with 512 entries. Smaller regions fit the TLB
// anyway and keep committing their memory a page at a time.
const hugePagesFrom = 16 << 20

// adviseHugePages asks the kernel to back buf with huge pages where its
// transparent huge page setting allows it ("madvise" or "always"). It is
// advice: a kernel without them, or that refuses, still maps the memory.
func adviseHugePages(buf []byte) {
	if len(buf) >= hugePagesFrom {
		_ = syscall.Madvise(buf, syscall.MADV_HUGEPAGE)
	}
}
