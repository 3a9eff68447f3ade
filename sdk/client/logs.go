package client

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"time"
)

// LogEvent is one function log record.
type LogEvent struct {
	Time      time.Time `json:"time"`
	LogGroup  string    `json:"logGroup"`
	LogStream string    `json:"logStream"`
	Message   string    `json:"message"`
}

// LogsInput selects log records.
type LogsInput struct {
	Functions []string // functions whose default log groups to read; empty = all
	Since     string   // duration ("10m") or RFC 3339 time; "" = everything kept
	Follow    bool     // keep streaming new records until ctx ends
}

// Logs calls fn for each stored record in order (and, with Follow, for new
// ones until ctx is done).
func (c *Client) Logs(ctx context.Context, in LogsInput, fn func(LogEvent) error) error {
	q := url.Values{}
	for _, f := range in.Functions {
		q.Add("function", f)
	}
	if in.Since != "" {
		q.Set("since", in.Since)
	}
	if in.Follow {
		q.Set("follow", "true")
	}
	req, err := c.newRequest(ctx, "GET", "/lambdad/v1/logs", q, nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil && in.Follow {
			return nil
		}
		return fmt.Errorf("logs: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return decodeError(resp)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64*1024), 8<<20)
	for sc.Scan() {
		var ev LogEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return fmt.Errorf("logs: decode record: %w", err)
		}
		if err := fn(ev); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil && !(in.Follow && ctx.Err() != nil) {
		return fmt.Errorf("logs: %w", err)
	}
	return nil
}
