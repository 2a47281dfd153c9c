package web

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHub_SlowClientIsToldToResync(t *testing.T) {
	h := newHub()
	fast, _ := h.add()
	slow, _ := h.add()
	for i := range sseBuffer + 5 {
		h.publish([]byte{byte(i)})
		<-fast.ch // the fast client keeps up
	}
	if !slow.lagged.Load() {
		t.Fatal("slow client not marked lagged after its buffer filled")
	}
	if fast.lagged.Load() {
		t.Fatal("fast client marked lagged")
	}
	if n := len(slow.ch); n != sseBuffer {
		t.Fatalf("slow client holds %d events, want %d", n, sseBuffer)
	}
	h.remove(slow)
	h.remove(slow) // idempotent
	if h.count() != 1 {
		t.Fatalf("%d clients, want 1", h.count())
	}
	h.closeAll()
	if _, ok := <-fast.ch; ok {
		t.Fatal("fast client's channel still open after closeAll")
	}
	if _, ok := h.add(); ok {
		t.Fatal("closed hub accepted a client")
	}
}

// TestEvents_ResyncAfterLag blocks a stream's writes until its buffer overflows, then checks that the stream
// carries the resync event.
func TestEvents_ResyncAfterLag(t *testing.T) {
	s := &Server{hub: newHub()}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	rec := &pipeWriter{hdr: http.Header{}, w: pw}
	req := httptest.NewRequest(http.MethodGet, "/api/events", nil).WithContext(ctx)
	done := make(chan struct{})
	go func() { defer close(done); s.events(rec, req) }()
	br := bufio.NewReader(pr)
	if line, _ := br.ReadString('\n'); !strings.HasPrefix(line, "retry:") {
		t.Fatalf("first line %q", line)
	}
	// the handler takes at most one event and then blocks writing it into the pipe nobody reads yet
	for range sseBuffer + 2 {
		s.hub.publish(encodeEvent("queue", map[string]int{}))
	}
	found := false
	for range 3 * sseBuffer {
		line, err := br.ReadString('\n')
		if err != nil {
			break
		}
		if line == "event: resync\n" {
			found = true
			break
		}
	}
	if !found {
		t.Fatal("no resync event after lagging")
	}
	cancel()
	pr.Close()
	<-done
}

// pipeWriter is an http.ResponseWriter (with Flush) whose body goes into a pipe.
type pipeWriter struct {
	hdr http.Header
	w   *io.PipeWriter
}

func (p *pipeWriter) Header() http.Header         { return p.hdr }
func (p *pipeWriter) Write(b []byte) (int, error) { return p.w.Write(b) }
func (p *pipeWriter) WriteHeader(int)             {}
func (p *pipeWriter) Flush()                      {}
