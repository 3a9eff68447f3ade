package cli

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/lambdad/lambdad/internal/config"
	"github.com/lambdad/lambdad/internal/daemon"
)

// runServe runs the server until ctx is cancelled (SIGINT/SIGTERM), then
// shuts down cleanly; a second signal is handled by main's default (exit).
func runServe(ctx context.Context, args []string, stdio Stdio, getenv func(string) string) error {
	cfg, err := config.Parse("lambdad serve", args, getenv)
	if err != nil {
		return err
	}
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	hopts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(stdio.Err, hopts)
	if cfg.LogFormat == "json" {
		h = slog.NewJSONHandler(stdio.Err, hopts)
	}
	log := slog.New(h)
	d, err := daemon.Start(ctx, cfg, log)
	if err != nil {
		return err
	}
	// The bound address on stdout, for scripts that start with --addr :0.
	fmt.Fprintf(stdio.Out, "lambdad listening on %s\n", d.URL())
	werr := d.Wait(ctx)
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := d.Stop(sctx); err != nil && werr == nil {
		werr = err
	}
	return werr
}
