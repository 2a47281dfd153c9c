package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// hub fans encoded server-sent events out to the connected streams. A stream that cannot keep up loses events
// and is told to resynchronise (event "resync") instead of slowing the others down.
type hub struct {
	mu      sync.Mutex
	clients map[*sseClient]struct{}
	closed  bool
}

type sseClient struct {
	ch     chan []byte
	lagged atomic.Bool
}

// sseBuffer is how many events a slow stream may have pending before it starts losing them.
const sseBuffer = 256

func newHub() *hub { return &hub{clients: map[*sseClient]struct{}{}} }

func (h *hub) add() (*sseClient, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, false
	}
	c := &sseClient{ch: make(chan []byte, sseBuffer)}
	h.clients[c] = struct{}{}
	return c, true
}

func (h *hub) remove(c *sseClient) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.clients[c]; ok {
		delete(h.clients, c)
		close(c.ch)
	}
}

func (h *hub) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.clients)
}

func (h *hub) publish(msg []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.clients {
		select {
		case c.ch <- msg:
		default:
			c.lagged.Store(true)
		}
	}
}

// closeAll ends every stream and refuses new ones.
func (h *hub) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for c := range h.clients {
		delete(h.clients, c)
		close(c.ch)
	}
}

// encodeEvent formats one server-sent event. JSON never contains a raw newline, so one data line suffices.
func encodeEvent(name string, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(`{}`)
	}
	return fmt.Appendf(nil, "event: %s\ndata: %s\n\n", name, b)
}

var resyncEvent = []byte("event: resync\ndata: {}\n\n")

// events streams changes ("sector", "job", "worker", "storage", "queue"), the periodic "tick" with the overview,
// and "resync" when this stream lost events and the page should re-read what it shows.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	c, ok := s.hub.add()
	if !ok {
		http.Error(w, "dashboard is shutting down", http.StatusServiceUnavailable)
		return
	}
	defer s.hub.remove(c)
	rc := http.NewResponseController(w)
	// a stream lives for as long as the page is open: lift the server's write timeout for this response
	// (an error only means the writer has no deadline to lift)
	_ = rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write([]byte("retry: 3000\n: connected\n\n")); err != nil {
		return
	}
	if err := rc.Flush(); err != nil {
		return
	}
	for {
		select {
		case <-r.Context().Done():
			return
		case msg, ok := <-c.ch:
			if !ok {
				return
			}
			if _, err := w.Write(msg); err != nil {
				return
			}
			if c.lagged.Swap(false) {
				if _, err := w.Write(resyncEvent); err != nil {
					return
				}
			}
			if err := rc.Flush(); err != nil {
				return
			}
		}
	}
}
