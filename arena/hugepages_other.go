//go:build !linux

package arena

func adviseHugePages([]byte) {}
