//go:build !race

package ringcache_test

const raceEnabled = false
