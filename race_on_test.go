//go:build race

package ringcache_test

// raceEnabled skips the tests that fill gigabytes: under the race detector
// they take minutes. .ci/run runs them in its build without -race.
const raceEnabled = true
