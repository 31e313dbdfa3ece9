package boot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Check is one readiness condition: nil when ready, an error saying why not.
type Check struct {
	Name string
	Fn   func(ctx context.Context) error
}

// ServerConfig configures the operations HTTP server.
type ServerConfig struct {
	// Addr to listen on; ":0" picks a free port. Empty disables the server.
	Addr string
	// Registry whose metrics /metrics exposes; nil exposes none.
	Registry *prometheus.Registry
	// Checks that /readyz runs; /healthz only says the process answers.
	Checks []Check
	// CheckTimeout bounds each readiness check; defaults to 2s.
	CheckTimeout time.Duration
	// ShutdownTimeout bounds the graceful shutdown; defaults to 5s.
	ShutdownTimeout time.Duration
}

// Server serves /healthz, /readyz and /metrics.
type Server struct {
	cfg ServerConfig
	log *slog.Logger
	srv *http.Server

	mu   sync.Mutex
	ln   net.Listener
	done chan struct{}
}

// NewServer builds the operations server; call Run to serve.
func NewServer(cfg ServerConfig, log *slog.Logger) *Server {
	if cfg.CheckTimeout <= 0 {
		cfg.CheckTimeout = 2 * time.Second
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 5 * time.Second
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: log, done: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	if cfg.Registry != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{Registry: cfg.Registry}))
	}
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	return s
}

// Handler returns the server's handler, for tests and embedding.
func (s *Server) Handler() http.Handler { return s.srv.Handler }

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	status := http.StatusOK
	res := make(map[string]string, len(s.cfg.Checks))
	for _, c := range s.cfg.Checks {
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.CheckTimeout)
		err := c.Fn(ctx)
		cancel()
		if err != nil {
			status = http.StatusServiceUnavailable
			res[c.Name] = err.Error()
			continue
		}
		res[c.Name] = "ok"
	}
	writeJSON(w, status, res)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Listen opens the listening socket, so that Addr is known before Run.
func (s *Server) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("http listen %s: %w", s.cfg.Addr, err)
	}
	s.ln = ln
	return nil
}

// Addr returns the listening address once Listen (or Run) has opened it.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Run serves until ctx ends, then shuts down gracefully. It returns nil after
// a shutdown asked for by ctx.
func (s *Server) Run(ctx context.Context) error {
	if err := s.Listen(); err != nil {
		return err
	}
	s.log.Info("http listening", "addr", s.Addr())
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := s.srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("http shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http serve: %w", err)
	}
	return nil
}
