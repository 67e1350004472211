package main

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// readTrace reads a gzip trace in ARC format (lines "start count ignore
// reqno", each standing for count consecutive keys from start) or LIRS
// format (one integer key per line; other lines skipped), chosen by the
// file name's .arc or .lirs part, and returns its requests. limit > 0
// stops after that many.
func readTrace(path string, limit int) ([]uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer zr.Close()
	switch name := filepath.Base(path); {
	case strings.Contains(name, ".arc"):
		return parseARC(zr, limit)
	case strings.Contains(name, ".lirs"):
		return parseLIRS(zr, limit)
	default:
		return nil, fmt.Errorf("%s: neither .arc nor .lirs", path)
	}
}

func parseARC(r io.Reader, limit int) ([]uint64, error) {
	var out []uint64
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) < 2 {
			return nil, fmt.Errorf("arc line %d: want start and count, got %q", line, sc.Text())
		}
		start, err1 := strconv.ParseUint(f[0], 10, 64)
		count, err2 := strconv.ParseUint(f[1], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("arc line %d: %q is not numeric", line, sc.Text())
		}
		for i := range count {
			out = append(out, start+i)
			if limit > 0 && len(out) >= limit {
				return out, nil
			}
		}
	}
	return out, sc.Err()
}

func parseLIRS(r io.Reader, limit int) ([]uint64, error) {
	var out []uint64
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		id, err := strconv.ParseUint(strings.TrimSpace(sc.Text()), 10, 64)
		if err != nil {
			continue // LIRS files carry "*" separators and blank lines
		}
		out = append(out, id)
		if limit > 0 && len(out) >= limit {
			break
		}
	}
	return out, sc.Err()
}
