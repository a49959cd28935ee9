package local_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sync"

	"supportpipe/internal/runtime/config"
	"supportpipe/internal/runtime/local"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func jsonDecode(resp *http.Response, v any) error { return json.NewDecoder(resp.Body).Decode(v) }

// withFile is env with the configuration file f, as if SUPPORT_CONFIG named it.
func withFile(env local.Config, f *config.Config) local.Config {
	env.File = f
	return env
}
