// Command demo serves the dashboard over a synthetic, moving cluster (package webtest) so that the UI can be
// looked at without a manager:
//
//	go run ./web/webtest/demo -listen 127.0.0.1:8090 -workers 200 -sectors 20000
//
// It prints the sign-in token. It is a development fixture, not part of the sealfleet binary.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"time"

	"sealfleet/web"
	"sealfleet/web/webtest"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run() error {
	listen := flag.String("listen", "127.0.0.1:8090", "address to serve on")
	workers := flag.Int("workers", 60, "workers in the synthetic cluster")
	sectors := flag.Int("sectors", 5000, "sectors of history")
	speedup := flag.Int("speedup", 60, "divide task durations by this for the live part")
	flag.Parse()
	if *workers < 1 || *sectors < 0 || *speedup < 1 {
		return errors.New("-workers must be >= 1, -sectors >= 0 and -speedup >= 1")
	}
	buf := make([]byte, 16)
	if _, err := rand.Read(buf); err != nil {
		return fmt.Errorf("making a token: %w", err)
	}
	token := hex.EncodeToString(buf)

	src := webtest.NewMemSource(webtest.DemoStates...)
	d := webtest.Demo{Workers: *workers, Sectors: *sectors, Now: time.Now(), Seed: 1}
	webtest.Populate(src, d)
	live := webtest.NewLive(src, d, *speedup)

	srv, err := web.New(web.Config{Source: src, Authorize: func(t string) ([]string, error) {
		if t != token {
			return nil, errors.New("unknown token")
		}
		return []string{web.PermRead}, nil
	}})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go func() { _ = srv.Run(ctx) }()
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				live.Step(now)
			}
		}
	}()
	hs := &http.Server{Addr: *listen, Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = hs.Shutdown(context.Background())
	}()
	slog.Info("dashboard demo", "url", "http://"+*listen+"/", "token", token)
	if err := hs.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
