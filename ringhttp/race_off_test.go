//go:build !race

package ringhttp

const raceEnabled = false
