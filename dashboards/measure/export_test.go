package measure

// SetRawPointLimit lowers the raw point limit for a test; the returned
// function restores it.
func SetRawPointLimit(n int) (restore func()) {
	old := rawPointLimit
	rawPointLimit = n
	return func() { rawPointLimit = old }
}

// WithEngine returns a client on the same InfluxDB and bucket that uses engine.
func WithEngine(c *Client, engine string) (*Client, error) {
	cfg := c.cfg
	cfg.Engine = engine
	return New(cfg, c.log)
}

// EngineOf returns the engine the client chose (after its first Range).
func EngineOf(c *Client) string {
	c.engine.mu.Lock()
	defer c.engine.mu.Unlock()
	if c.cfg.Engine != EngineAuto {
		return c.cfg.Engine
	}
	return c.engine.chosen
}
