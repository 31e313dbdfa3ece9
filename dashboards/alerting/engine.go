package alerting

import (
	"math"
	"sort"
	"time"
)

// Phase is where the condition of one level of a rule on one series stands.
type Phase string

// Phases of the evaluation state.
const (
	Idle    Phase = "idle"    // the condition is off
	Pending Phase = "pending" // beyond the threshold since Since, not yet for Hold
	Firing  Phase = "firing"  // an alert is open (AlertID)
)

// Sample is one value the core evaluates, at its own time: a reading's
// number, a device's status (1 offline, 0 online), a series' silence in
// seconds, or a site's ATMO class.
type Sample struct {
	Time  time.Time `json:"t"`
	Value float64   `json:"v"`
}

// State is the evaluation state of one key (rule × series × level): what
// the evaluator keeps in the store between readings, so that any replica
// can take the next reading.
type State struct {
	Phase Phase `json:"phase"`
	// Since is the time of the first sample of the current run beyond the
	// threshold (Pending and Firing), First its value.
	Since time.Time `json:"since"`
	First float64   `json:"first"`
	// Peak is the furthest value beyond the threshold of the run.
	Peak float64 `json:"peak"`
	// Last is the time of the newest sample evaluated.
	Last time.Time `json:"last"`
	// AlertID is the open alert (Firing).
	AlertID string `json:"alert_id,omitempty"`
	// Window holds a Rate rule's window: WindowBuckets buckets at most, in
	// time order (addWindow).
	Window []Sample `json:"window,omitempty"`
}

// EventType is what a step decided.
type EventType int

// Events of Step.
const (
	None EventType = iota
	Fire
	Clear
	// Late means the sample was older than the newest one evaluated and
	// changed nothing (out of order; docs/alerts.md, limits).
	Late
)

// Event is the decision of one Step.
type Event struct {
	Type EventType
	// From and To are the triggering readings' times (Fire): the first
	// beyond the threshold and the one that met the condition; To is the
	// condition's end for Clear.
	From, To time.Time
	// Value is the measured value of the sample (for Rate the change over
	// the window), First the run's first, Peak its furthest.
	Value, First, Peak float64
}

// Step evaluates one sample of the key (r, level) and returns the new state
// and what happened. It is deterministic and pure: time is the sample's.
// Samples older than st.Last are Late (for Rate they still join the window,
// for the readings after them).
func Step(r *Rule, level int, st State, s Sample) (State, Event) {
	l := r.Levels[level]
	v := s.Value
	if r.Kind == Rate {
		st.Window = addWindow(st.Window, s, r.Window, l.Threshold > 0)
		if !st.Last.IsZero() && s.Time.Before(st.Last) {
			return st, Event{Type: Late}
		}
		v = change(st.Window, s, l.Threshold > 0)
	} else if !st.Last.IsZero() && s.Time.Before(st.Last) {
		return st, Event{Type: Late}
	}
	st.Last = s.Time
	hold := r.Hold
	if r.Kind == NoData {
		// The sample is the silence itself: beyond once it lasts Hold.
		l.Threshold, hold = r.Hold.Seconds(), 0
	}
	beyond, cleared := judge(r.Kind, l, v)
	switch st.Phase {
	case Firing:
		if cleared {
			ev := Event{Type: Clear, From: st.Since, To: s.Time, Value: v, First: st.First, Peak: st.Peak}
			st.Phase, st.Since, st.First, st.Peak, st.AlertID = Idle, time.Time{}, 0, 0, ""
			return st, ev
		}
		st.Peak = further(r.Kind, l, st.Peak, v)
		return st, Event{Value: v}
	case Pending:
		if !beyond {
			st.Phase, st.Since, st.First, st.Peak = Idle, time.Time{}, 0, 0
			return st, Event{Value: v}
		}
		st.Peak = further(r.Kind, l, st.Peak, v)
	default:
		if !beyond {
			return st, Event{Value: v}
		}
		st.Phase, st.Since, st.First, st.Peak = Pending, s.Time, v, v
		if r.Kind == NoData {
			st.Since = s.Time.Add(-time.Duration(v * float64(time.Second))) // the last reading
		}
	}
	if s.Time.Sub(st.Since) >= hold {
		st.Phase = Firing
		return st, Event{Type: Fire, From: st.Since, To: s.Time, Value: v, First: st.First, Peak: st.Peak}
	}
	return st, Event{Value: v}
}

// judge says whether v is beyond the level's threshold, and whether it has
// cleared (hysteresis: between the two, an open alert stays open and a
// pending run ends).
func judge(k Kind, l Level, v float64) (beyond, cleared bool) {
	c := l.ClearValue()
	switch k {
	case Below:
		return v <= l.Threshold, v > c
	case Rate:
		if l.Threshold < 0 {
			return v <= l.Threshold, v > c
		}
		return v >= l.Threshold, v < c
	case NoData:
		// The sample is the silence in seconds (the threshold is Hold's):
		// a reading (0), or a sweep that finds a recent one, clears.
		return v >= l.Threshold, v < l.Threshold
	case Offline:
		return v >= 1, v < 1
	default: // Above, Atmo
		return v >= l.Threshold, v < c
	}
}

// further returns the value furthest beyond the threshold of a and b.
func further(k Kind, l Level, a, b float64) float64 {
	if k == Below || (k == Rate && l.Threshold < 0) {
		return math.Min(a, b)
	}
	return math.Max(a, b)
}

// WindowBuckets is how many buckets a Rate rule's window keeps: the state
// stays small (it is written at every reading) whatever the series' rate,
// at the cost of a resolution of Window/WindowBuckets at the window's far
// end.
const WindowBuckets = 64

// addWindow folds s into the window's buckets (Window/WindowBuckets wide,
// stamped with their start, holding the lowest value for a rise, the highest
// for a fall) and drops the buckets wholly older than window before the
// newest sample.
func addWindow(w []Sample, s Sample, window time.Duration, rise bool) []Sample {
	width := window / WindowBuckets
	if width <= 0 {
		width = 1
	}
	start := s.Time.Truncate(width)
	i := sort.Search(len(w), func(i int) bool { return !w[i].Time.Before(start) })
	switch {
	case i < len(w) && w[i].Time.Equal(start):
		if (rise && s.Value < w[i].Value) || (!rise && s.Value > w[i].Value) {
			w[i].Value = s.Value
		}
	default:
		w = append(w, Sample{})
		copy(w[i+1:], w[i:])
		w[i] = Sample{Time: start, Value: s.Value}
	}
	cut := w[len(w)-1].Time.Add(-window)
	j := 0
	for j < len(w) && !w[j].Time.Add(width).After(cut) {
		j++
	}
	if j > 0 {
		w = append(w[:0], w[j:]...)
	}
	return w
}

// change is the rise of s over the lowest value of the window (rise), or
// its fall under the highest (negative), over the buckets up to s.
func change(w []Sample, s Sample, rise bool) float64 {
	ref := s.Value
	for _, x := range w {
		if x.Time.After(s.Time) {
			break
		}
		if rise {
			ref = math.Min(ref, x.Value)
		} else {
			ref = math.Max(ref, x.Value)
		}
	}
	return s.Value - ref
}
