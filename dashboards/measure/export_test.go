package measure

// SetRawPointLimit lowers the raw point limit for a test; the returned
// function restores it.
func SetRawPointLimit(n int) (restore func()) {
	old := rawPointLimit
	rawPointLimit = n
	return func() { rawPointLimit = old }
}
