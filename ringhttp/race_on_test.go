//go:build race

package ringhttp

// raceEnabled skips allocation counts: the race detector allocates on its
// own, and sync.Pool drops items at random under it.
const raceEnabled = true
