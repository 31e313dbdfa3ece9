package alerting

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/atmo"
)

// Config tunes the service; zero values take the defaults (Validate).
type Config struct {
	// TopicPrefix of the platform's topics (optional) defaults to
	// smartdeal/v1; the wiring sets the broker's (mqtt.topic_prefix).
	TopicPrefix string `koanf:"-"`
	// Lateness: an alert whose condition was met longer ago than this when
	// it is recorded belongs to the past (optional) defaults to 2m.
	Lateness time.Duration `koanf:"lateness"`
	// Sweep is how often no-data, offline-held and ATMO rules are evaluated
	// without a reading (optional) defaults to 30s.
	Sweep time.Duration `koanf:"sweep"`
	// RulesRefresh is how often the rules are read again from the store
	// (optional) defaults to 5s: rules changed by the API or another
	// replica take effect within it.
	RulesRefresh time.Duration `koanf:"rules_refresh"`
	// StateCache lets a replica decide from its own copy of an evaluation
	// state for this long before reading the store again (optional; 0, the
	// default, reads the store for every reading a rule matches). Every
	// transition is still a compare-and-set on the stored version; what a
	// stale copy can miss is said in docs/alerts.md.
	StateCache time.Duration `koanf:"state_cache"`
	// Webhooks are URLs every alert change is POSTed to (optional).
	Webhooks []string `koanf:"webhooks"`
	// WebhookSecret signs the webhooks' bodies (HMAC-SHA256, header
	// X-SmartDeal-Signature); required with Webhooks.
	WebhookSecret string `koanf:"webhook_secret"`
	// WebhookTimeout bounds one POST (optional) defaults to 10s.
	WebhookTimeout time.Duration `koanf:"webhook_timeout"`
	// MailInterval is the storm grouping: at most one mail per rule and
	// address per interval (optional) defaults to 15m.
	MailInterval time.Duration `koanf:"mail_interval"`
	// PublicURL is the web address the mails link to (optional) defaults to
	// http://127.0.0.1:8080.
	PublicURL string `koanf:"public_url"`
	// Poll is how often the delivery worker looks for due notifications
	// besides its own wake-ups (optional) defaults to 1s.
	Poll time.Duration `koanf:"poll"`
	// RetryBase and RetryMax: the wait after a failed delivery, doubled
	// per attempt (optional) default to 1s and 5m.
	RetryBase time.Duration `koanf:"retry_base"`
	RetryMax  time.Duration `koanf:"retry_max"`
	// MaxAttempts before a delivery goes to the dead letters (optional)
	// defaults to 10.
	MaxAttempts int `koanf:"max_attempts"`
	// Lease is how long a worker holds the deliveries it took (optional)
	// defaults to 1m; a worker killed meanwhile leaves them to another.
	Lease time.Duration `koanf:"lease"`
}

// DefaultConfig is the configuration of a local run.
func DefaultConfig() Config {
	c := Config{}
	_ = c.Validate()
	return c
}

// Validate fills the defaults and checks the config; errors name the key
// under alerts.
func (c *Config) Validate() error {
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	if c.TopicPrefix == "" {
		c.TopicPrefix = smartdeal.DefaultTopicPrefix
	}
	def(&c.Lateness, 2*time.Minute)
	def(&c.Sweep, 30*time.Second)
	def(&c.RulesRefresh, 5*time.Second)
	def(&c.WebhookTimeout, 10*time.Second)
	def(&c.MailInterval, 15*time.Minute)
	def(&c.Poll, time.Second)
	def(&c.RetryBase, time.Second)
	def(&c.RetryMax, 5*time.Minute)
	def(&c.Lease, time.Minute)
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 10
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://127.0.0.1:8080"
	}
	c.PublicURL = strings.TrimSuffix(c.PublicURL, "/")
	switch {
	case c.StateCache < 0 || c.StateCache > time.Minute:
		return errors.New("alerts.state_cache: 0 to 1m")
	case c.Lateness < time.Second:
		return errors.New("alerts.lateness: at least 1s")
	case c.Sweep < 10*time.Millisecond || c.RulesRefresh < 10*time.Millisecond || c.Poll < 10*time.Millisecond:
		return errors.New("alerts.sweep, alerts.rules_refresh, alerts.poll: at least 10ms")
	case c.RetryBase < 10*time.Millisecond || c.RetryMax < c.RetryBase:
		return errors.New("alerts.retry_base: at least 10ms, and alerts.retry_max at least alerts.retry_base")
	case c.MaxAttempts < 1:
		return errors.New("alerts.max_attempts: at least 1")
	case c.Lease < time.Second:
		return errors.New("alerts.lease: at least 1s")
	case len(c.Webhooks) > 0 && c.WebhookSecret == "":
		return errors.New("alerts.webhook_secret: required with alerts.webhooks")
	}
	for i, u := range c.Webhooks {
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			return fmt.Errorf("alerts.webhooks[%d]: want an http:// or https:// URL", i)
		}
	}
	return nil
}

// Deps are the service's adapters, passed by the wiring.
type Deps struct {
	Store Store
	// Measurements (optional): without it no window is rebuilt, and
	// no-data and ATMO rules are not evaluated.
	Measurements Measurements
	// Publisher (optional): without it MQTT deliveries wait.
	Publisher Publisher
	// Mailer (optional): without it no mail is queued.
	Mailer Mailer
	// HTTP (optional) defaults to a client with WebhookTimeout.
	HTTP *http.Client
	Log  *slog.Logger
	// Now (optional) defaults to time.Now.
	Now func() time.Time
}

// Service evaluates the rules and manages the alerts: the evaluator's
// entry points (HandleReadings, HandleStatus, Sweep, Run) and the API that
// pages and JSON handlers call (Rules, CreateRule, Preview, Alerts,
// Acknowledge, Close, History, Atmo…).
type Service struct {
	cfg    Config
	d      Deps
	log    *slog.Logger
	topics smartdeal.Topics

	mu      sync.RWMutex
	rules   []*Rule
	byQty   map[string][]*Rule // above, below, rate, no_data rules by quantity
	offline []*Rule
	atmo    []*Rule
	loaded  time.Time

	// statuses are the devices' last statuses (every replica sees them:
	// the status subscription is not shared), for the sweep of offline
	// rules held past their hold without a new status message.
	stMu     sync.Mutex
	statuses map[[2]string]bool

	cacheMu sync.Mutex
	cache   map[Key]cachedState

	wake    chan struct{}
	seq     atomic.Int64
	metrics Metrics
}

// Metrics counts what the service did (exported by the wiring).
type Metrics struct {
	// Readings counts the numeric readings evaluated (after their
	// evaluation).
	Readings, Evaluations, Fired, Cleared, Conflicts, Late, Errors atomic.Int64
	Delivered, DeliveryFailures, DeadLetters                       atomic.Int64
}

// New returns a service; Run starts its loops.
func New(cfg Config, d Deps) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d.Store == nil {
		return nil, errors.New("alerting: a store is required")
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.HTTP == nil {
		d.HTTP = &http.Client{Timeout: cfg.WebhookTimeout}
	}
	s := &Service{cfg: cfg, d: d, log: d.Log, topics: smartdeal.Topics{Prefix: cfg.TopicPrefix}, wake: make(chan struct{}, 1),
		statuses: map[[2]string]bool{}, cache: map[Key]cachedState{}}
	s.seq.Store(d.Now().UnixNano())
	return s, nil
}

// Metrics returns the service's counters.
func (s *Service) Metrics() *Metrics { return &s.metrics }

// NewID returns a random identifier: 16 lowercase letters and digits, safe
// in a topic and a URL.
func NewID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// LoadRules reads the rules from the store now (Run does it every
// RulesRefresh).
func (s *Service) LoadRules(ctx context.Context) error {
	rules, err := s.d.Store.AlertRules(ctx)
	if err != nil {
		return err
	}
	byQty := map[string][]*Rule{}
	var offline, at []*Rule
	for _, r := range rules {
		if !r.Enabled {
			continue
		}
		switch r.Kind {
		case Offline:
			offline = append(offline, r)
		case Atmo:
			at = append(at, r)
		default:
			byQty[r.Quantity] = append(byQty[r.Quantity], r)
		}
	}
	s.mu.Lock()
	s.rules, s.byQty, s.offline, s.atmo, s.loaded = rules, byQty, offline, at, s.d.Now()
	s.mu.Unlock()
	return nil
}

func (s *Service) rulesFor(quantity string) []*Rule {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.byQty[quantity]
}

// HandleReadings evaluates decoded readings (telemetry.Decoder's) against
// the rules watching their series. Each reading is judged at its own time.
// It returns the first error; the other readings are still evaluated.
func (s *Service) HandleReadings(ctx context.Context, rs []smartdeal.Reading) error {
	var first error
	var now time.Time
	for i := range rs {
		r := &rs[i]
		if r.Kind != smartdeal.KindNumber {
			continue
		}
		var key string
		for _, rule := range s.rulesFor(r.Quantity) {
			if !rule.Matches(r.Site, r.Device, r.Quantity) {
				continue
			}
			if key == "" {
				key = SeriesKey(r.Site, r.Device, r.Quantity)
				if now.IsZero() {
					now = s.d.Now()
				}
			}
			v := r.Number
			if rule.Kind == NoData {
				v = 0 // a reading ends a silence
			}
			series := smartdeal.Series{Site: r.Site, Device: r.Device, Quantity: r.Quantity, Unit: r.Unit}
			for lv := range rule.Levels {
				if err := s.evaluateKey(ctx, now, rule, lv, series, key, Sample{Time: r.Time, Value: v}); err != nil && first == nil {
					first = err
				}
			}
		}
		s.metrics.Readings.Add(1) // once evaluated: tests wait on it
	}
	return first
}

// StatusQuantity is the quantity of an Offline alert's series.
const StatusQuantity = "status"

// HandleStatus evaluates a device's retained status (online or offline at
// at) against the offline rules watching it.
func (s *Service) HandleStatus(ctx context.Context, site, device string, offline bool, at time.Time) error {
	s.stMu.Lock()
	s.statuses[[2]string{site, device}] = offline
	s.stMu.Unlock()
	s.mu.RLock()
	rules := s.offline
	s.mu.RUnlock()
	v := 0.0
	if offline {
		v = 1
	}
	var first error
	for _, rule := range rules {
		if !rule.Matches(site, device, "") {
			continue
		}
		for lv := range rule.Levels {
			err := s.evaluate(ctx, rule, lv, smartdeal.Series{Site: site, Device: device, Quantity: StatusQuantity}, Sample{Time: at, Value: v})
			if err != nil && first == nil {
				first = err
			}
		}
	}
	return first
}

// evaluate runs one sample of one key through Step against the stored
// state, and writes the new state with its alert change by compare-and-set:
// another replica's write in between makes it read and decide again.
func (s *Service) evaluate(ctx context.Context, r *Rule, level int, series smartdeal.Series, smp Sample) error {
	return s.evaluateKey(ctx, s.d.Now(), r, level, series, SeriesKey(series.Site, series.Device, series.Quantity), smp)
}

// evaluateKey is evaluate with the series' key made and the time read
// once per reading (time.Now is not free on every machine).
func (s *Service) evaluateKey(ctx context.Context, now time.Time, r *Rule, level int, series smartdeal.Series, seriesKey string, smp Sample) error {
	k := Key{RuleID: r.ID, Series: seriesKey, Level: level}
	for attempt := 0; attempt < 8; attempt++ {
		s.metrics.Evaluations.Add(1)
		st, version, cached := s.cached(k, attempt, now)
		if !cached {
			var err error
			if st, version, err = s.d.Store.AlertState(ctx, k); err != nil {
				s.metrics.Errors.Add(1)
				return err
			}
			if version == 0 {
				if r.Kind == NoData && smp.Value == 0 {
					return nil // a reading of a series never silent: nothing to keep
				}
				st = s.rebuild(ctx, r, level, series, smp.Time)
			}
		}
		next, ev := Step(r, level, st, smp)
		if ev.Type == Late {
			s.metrics.Late.Add(1)
			if r.Kind != Rate {
				return nil
			}
		}
		if ev.Type == Fire {
			if next, ev = s.verifyRun(ctx, r, level, series, next, ev); ev.Type != Fire {
				s.log.Info("alerts: run broken by a reading another replica saw; not firing", "rule", r.ID, "series", k.Series, "since", next.Since)
			}
		}
		if ev.Type == None && sameEdge(st, next) && r.Kind != Rate && (version != 0 || cached) {
			s.keep(k, next, version, cached, now)
			return nil // nothing that another replica needs to know
		}
		var err error
		now = s.d.Now()
		var ch *Change
		switch ev.Type {
		case Fire:
			a := s.newAlert(r, level, series, ev, now)
			next.AlertID = a.ID
			ch = &Change{Open: a}
			ch.Deliveries, err = s.deliveries(ctx, a, "fired", now, true)
			if err != nil {
				return err
			}
		case Clear:
			if st.AlertID != "" {
				a, err := s.d.Store.Alert(ctx, st.AlertID)
				if err != nil {
					return err
				}
				end := ev.To
				a.Status, a.ConditionEnd, a.ClearedAt, a.Version = Cleared, &end, &now, a.Version+1
				ch = &Change{ClearID: a.ID, ConditionEnd: ev.To, Recorded: now}
				ch.Deliveries, err = s.deliveries(ctx, a, "cleared", now, false)
				if err != nil {
					return err
				}
			}
		}
		newVersion, err := s.d.Store.ApplyAlertState(ctx, k, version, next, ch)
		if errors.Is(err, ErrConflict) {
			s.metrics.Conflicts.Add(1)
			s.forget(k)
			continue
		}
		if err != nil {
			s.metrics.Errors.Add(1)
			s.forget(k)
			return err
		}
		s.keep(k, next, newVersion, false, now)
		switch ev.Type {
		case Fire:
			s.metrics.Fired.Add(1)
			s.log.Info("alert fired", "rule", r.ID, "series", k.Series, "severity", r.Levels[level].Severity, "alert", next.AlertID,
				"value", ev.Value, "at", ev.To, "past", ch.Open.Past)
			s.poke()
		case Clear:
			s.metrics.Cleared.Add(1)
			s.log.Info("alert cleared", "rule", r.ID, "series", k.Series, "alert", st.AlertID, "at", ev.To)
			s.poke()
		}
		return nil
	}
	s.metrics.Errors.Add(1)
	return fmt.Errorf("alert state %s: %w after 8 attempts", k, ErrConflict)
}

// cachedState is a replica's copy of a stored state (StateCache).
type cachedState struct {
	st      State
	version int64
	read    time.Time // when it was read or written in the store
}

// cached returns the replica's copy of k's state when it is fresh enough;
// a retry (attempt > 0) always reads the store.
func (s *Service) cached(k Key, attempt int, now time.Time) (State, int64, bool) {
	if s.cfg.StateCache <= 0 || attempt > 0 {
		return State{}, 0, false
	}
	s.cacheMu.Lock()
	defer s.cacheMu.Unlock()
	c, ok := s.cache[k]
	if !ok || now.Sub(c.read) > s.cfg.StateCache {
		return State{}, 0, false
	}
	return c.st, c.version, true
}

// keep records st as the replica's copy of k: read now from the store
// (fromCache false), or stepped from a copy, which keeps its age.
func (s *Service) keep(k Key, st State, version int64, fromCache bool, now time.Time) {
	if s.cfg.StateCache <= 0 {
		return
	}
	s.cacheMu.Lock()
	defer s.cacheMu.Unlock()
	read := now
	if c, ok := s.cache[k]; ok && fromCache {
		read = c.read
	}
	s.cache[k] = cachedState{st: st, version: version, read: read}
}

func (s *Service) forget(k Key) {
	if s.cfg.StateCache <= 0 {
		return
	}
	s.cacheMu.Lock()
	delete(s.cache, k)
	s.cacheMu.Unlock()
}

// expireCache drops the copies too old to be used (Run, every sweep).
func (s *Service) expireCache() {
	s.cacheMu.Lock()
	defer s.cacheMu.Unlock()
	now := s.d.Now()
	for k, c := range s.cache {
		if now.Sub(c.read) > s.cfg.StateCache {
			delete(s.cache, k)
		}
	}
}

// verifyRun checks a threshold run held for its rule's hold against the
// readings InfluxDB has (the ingest writes every replica's share) before it
// fires: with a shared subscription this replica saw only some of the
// series' readings, and a dip another replica saw ends the run. The run
// then restarts after the last reading not beyond the threshold, and fires
// only if it still lasts the hold. When InfluxDB cannot answer the run
// fires on what the store knows.
func (s *Service) verifyRun(ctx context.Context, r *Rule, level int, series smartdeal.Series, st State, ev Event) (State, Event) {
	if s.d.Measurements == nil || r.Hold <= 0 || (r.Kind != Above && r.Kind != Below) {
		return st, ev
	}
	agg := AggMin
	if r.Kind == Below {
		agg = AggMax
	}
	samples, err := s.d.Measurements.Samples(ctx, series.Site, series.Device, series.Quantity, ev.From, ev.To.Add(time.Nanosecond), 0, agg)
	if err != nil {
		s.log.Warn("alerts: run not checked against InfluxDB; firing on the stored state", "rule", r.ID, "err", err)
		return st, ev
	}
	l := r.Levels[level]
	var broken time.Time
	for _, smp := range samples {
		// A window is stamped with its end: its readings are before it.
		if beyond, _ := judge(r.Kind, l, smp.Value); !beyond && smp.Time.Before(ev.To) {
			broken = smp.Time
		}
	}
	if broken.IsZero() {
		return st, ev
	}
	since := broken
	if !since.After(ev.From) {
		return st, ev
	}
	if ev.To.Sub(since) >= r.Hold {
		ev.From = since
		st.Since = since
		return st, ev
	}
	st.Phase, st.Since = Pending, since
	return st, Event{Value: ev.Value}
}

// sameEdge reports whether two states differ only in what nobody reads
// later (Last, the peak of an open alert): such a step is not written.
func sameEdge(a, b State) bool {
	// A pending run's peak is written as it grows: the alert reports the
	// furthest of its triggering readings whichever replica fires it.
	return a.Phase == b.Phase && a.Since.Equal(b.Since) && a.AlertID == b.AlertID && (a.Phase != Pending || a.Peak == b.Peak)
}

// rebuild starts the state of a key that has none (a new rule, a new
// series, the first start) from InfluxDB: the samples of the window before
// t, so that a rate or a run already held is not forgotten.
func (s *Service) rebuild(ctx context.Context, r *Rule, level int, series smartdeal.Series, t time.Time) State {
	var st State
	// Twice the hold (at least a minute more): a run that began before
	// t-hold is what makes t fire. The reader stamps a window with its end,
	// so a rebuilt run starts up to one window late.
	span := 2*r.Hold + time.Minute
	if r.Kind == Rate {
		span = r.Window
	}
	if s.d.Measurements == nil || (r.Kind != Rate && r.Hold <= 0) || (r.Kind != Rate && r.Kind != Above && r.Kind != Below) {
		return st
	}
	samples, err := s.d.Measurements.Samples(ctx, series.Site, series.Device, series.Quantity, t.Add(-span), t, 0, AggLast)
	if err != nil {
		s.log.Warn("alerts: window not rebuilt from InfluxDB", "rule", r.ID, "series", series, "err", err)
		return st
	}
	for _, smp := range samples {
		if !smp.Time.Before(t) {
			break
		}
		var ev Event
		st, ev = Step(r, level, st, smp)
		if ev.Type == Fire {
			// Beyond for the whole hold before t: the sample at t fires
			// (from the run's start); the window does not fire by itself.
			st.Phase = Pending
		}
	}
	return st
}

// newAlert is the alert a Fire opens.
func (s *Service) newAlert(r *Rule, level int, series smartdeal.Series, ev Event, now time.Time) *Alert {
	return &Alert{
		ID: NewID(), RuleID: r.ID, RuleName: r.Name, Kind: r.Kind, Severity: r.Levels[level].Severity, Series: series,
		Status: Active, Threshold: r.Levels[level].Threshold, Value: ev.Value, Peak: ev.Peak,
		From: ev.From.UTC(), FiredAt: ev.To.UTC(), Recorded: now.UTC(), Past: now.Sub(ev.To) > s.cfg.Lateness, Version: 1,
	}
}

// Sweep evaluates what has no reading to trigger it: the silence of the
// series of no-data rules (their newest reading in InfluxDB), the offline
// devices held past their rule's hold, and the day's ATMO index of the
// sites of ATMO rules.
func (s *Service) Sweep(ctx context.Context) error {
	now := s.d.Now()
	var errs []error
	s.stMu.Lock()
	var down [][2]string
	for dev, off := range s.statuses {
		if off {
			down = append(down, dev)
		}
	}
	s.stMu.Unlock()
	for _, dev := range down {
		if err := s.HandleStatus(ctx, dev[0], dev[1], true, now); err != nil {
			errs = append(errs, err)
		}
	}
	if s.d.Measurements == nil {
		return errors.Join(errs...)
	}
	s.mu.RLock()
	var silent []*Rule
	for _, rs := range s.byQty {
		for _, r := range rs {
			if r.Kind == NoData {
				silent = append(silent, r)
			}
		}
	}
	atmoRules := s.atmo
	s.mu.RUnlock()
	for _, r := range silent {
		latest, err := s.d.Measurements.Latest(ctx, r.Site, r.Device, r.Quantity, max(4*r.Hold, 24*time.Hour))
		if err != nil {
			errs = append(errs, fmt.Errorf("no-data rule %s: %w", r.ID, err))
			continue
		}
		for _, l := range latest {
			silence := now.Sub(l.Time)
			if silence < 0 {
				silence = 0
			}
			series := smartdeal.Series{Site: l.Site, Device: l.Device, Quantity: l.Quantity, Unit: l.Unit}
			for lv := range r.Levels {
				if silence < r.Hold {
					// Not silent: only a state that exists can change.
					if _, v, err := s.d.Store.AlertState(ctx, Key{RuleID: r.ID, Series: SeriesKey(l.Site, l.Device, l.Quantity), Level: lv}); err != nil || v == 0 {
						continue
					}
				}
				if err := s.evaluate(ctx, r, lv, series, Sample{Time: now, Value: silence.Seconds()}); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	sites := map[string]*atmo.Index{}
	for _, r := range atmoRules {
		list := []string{r.Site}
		if r.Site == "" {
			var err error
			if list, err = s.atmoSites(ctx); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		for _, site := range list {
			x, ok := sites[site]
			if !ok {
				var err error
				if x, err = s.d.Measurements.Atmo(ctx, site, now, now); err != nil {
					errs = append(errs, fmt.Errorf("atmo %s: %w", site, err))
					continue
				}
				sites[site] = x
			}
			if x == nil || !x.Class.Valid() {
				continue
			}
			for lv := range r.Levels {
				if err := s.evaluate(ctx, r, lv, smartdeal.Series{Site: site, Quantity: AtmoQuantity}, Sample{Time: now, Value: float64(x.Class)}); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	return errors.Join(errs...)
}

// AtmoQuantity is the quantity of an ATMO alert's series (its device is
// empty: the index is a site's).
const AtmoQuantity = "atmo"

// atmoSites are the sites with a pollutant series in the last two days.
func (s *Service) atmoSites(ctx context.Context) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, p := range atmo.Pollutants {
		latest, err := s.d.Measurements.Latest(ctx, "", "", string(p), 48*time.Hour)
		if err != nil {
			return nil, fmt.Errorf("atmo sites: %w", err)
		}
		for _, l := range latest {
			if !seen[l.Site] {
				seen[l.Site] = true
				out = append(out, l.Site)
			}
		}
	}
	return out, nil
}

// Run refreshes the rules, sweeps and delivers the notifications until ctx
// ends, then returns nil.
func (s *Service) Run(ctx context.Context) error {
	if err := s.LoadRules(ctx); err != nil && ctx.Err() == nil {
		s.log.Warn("alerts: rules not loaded; retrying", "err", err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.deliverLoop(ctx) }()
	go func() {
		defer wg.Done()
		rules := time.NewTicker(s.cfg.RulesRefresh)
		sweep := time.NewTicker(s.cfg.Sweep)
		defer rules.Stop()
		defer sweep.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-rules.C:
				if err := s.LoadRules(ctx); err != nil && ctx.Err() == nil {
					s.log.Warn("alerts: rules not reloaded", "err", err)
				}
			case <-sweep.C:
				s.expireCache()
				if err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
					s.log.Warn("alerts: sweep", "err", err)
				}
			}
		}
	}()
	wg.Wait()
	return nil
}

func (s *Service) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}
