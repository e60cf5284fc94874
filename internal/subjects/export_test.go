package subjects

// SetFactsInMemory sets how much of Scan's counting stream stays in memory, until restore is
// called.
func SetFactsInMemory(n int) (restore func()) {
	old := factsInMemory
	factsInMemory = n
	return func() { factsInMemory = old }
}
