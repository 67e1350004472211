package arena

import (
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
)

// BenchmarkFreshMemory measures what a region's first writes cost: each
// iteration maps 256 MiB and writes one byte per page, after populating
// the region or not, on one goroutine or on every core. The figure that
// matters is s/GiB (ns/op × 4).
func BenchmarkFreshMemory(b *testing.B) {
	const size = 256 << 20
	for _, populate := range []bool{false, true} {
		for _, parts := range []int{1, runtime.GOMAXPROCS(0)} {
			name := "touch"
			if populate {
				name = "populate+touch"
			}
			b.Run(name+"/goroutines="+strconv.Itoa(parts), func(b *testing.B) {
				for b.Loop() {
					r, err := NewRegion(size)
					if err != nil {
						b.Fatal(err)
					}
					if populate {
						r.Populate()
					}
					touchPages(r.Bytes(), parts)
					_ = r.Free()
				}
			})
		}
	}
}

// touchPages writes one byte of every page of buf, split over parts
// goroutines.
func touchPages(buf []byte, parts int) {
	page := os.Getpagesize()
	step := (len(buf)/parts + page - 1) &^ (page - 1)
	var wg sync.WaitGroup
	for from := 0; from < len(buf); from += step {
		wg.Add(1)
		go func(part []byte) {
			defer wg.Done()
			for i := 0; i < len(part); i += page {
				part[i] = 1
			}
		}(buf[from:min(from+step, len(buf))])
	}
	wg.Wait()
}
