package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// apiClient reads the server's /support API.
type apiClient struct {
	base, token string
	http        *http.Client
}

// convView is what the demo reads of GET /support/conversations/{a}/{c}.
type convView struct {
	FirstCustomerMessageAt *time.Time `json:"first_customer_message_at"`
	FirstResponseAt        *time.Time `json:"first_response_at"`
	FirstResponseSeconds   *float64   `json:"first_response_seconds"`
	Tags                   []string   `json:"tags"`
	EscalationReasons      []string   `json:"escalation_reasons"`
	SLA                    *struct {
		State string    `json:"state"`
		Due   time.Time `json:"due"`
	} `json:"sla"`
}

type dailyView struct {
	Duplicates int64 `json:"duplicates"`
}

var errNotFound = errors.New("not found")

func (a *apiClient) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.base+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := a.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return json.NewDecoder(resp.Body).Decode(v)
	case http.StatusNotFound:
		return errNotFound
	case http.StatusUnauthorized:
		return errors.New("the API token was refused: use the server's (SUPPORT_API_TOKEN, or the data dir's support_api_token)")
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	return fmt.Errorf("GET %s: %d %s", path, resp.StatusCode, strings.TrimSpace(string(b)))
}

// reachable checks there is a server, before anything is sent.
func (a *apiClient) reachable(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.base+"/support/health", nil)
	if err != nil {
		return err
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return fmt.Errorf("no server at %s (%v): start it first, e.g. make run, and run demo with the same SUPPORT_ADDR", a.base, err)
	}
	resp.Body.Close()
	return nil
}

func (a *apiClient) stats(ctx context.Context) (dailyView, error) {
	var d dailyView
	err := a.get(ctx, "/support/stats", &d)
	return d, err
}

// freeConversations picks the first of five unused conversation ids: one
// per minute of the year so far, times ten, moved on while a run of the
// same minute already holds it.
func (a *apiClient) freeConversations(ctx context.Context, now time.Time) (int64, error) {
	year := time.Date(now.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	base := 10 * (int64(now.Sub(year)/time.Minute) + 1)
	for range 100 {
		var v convView
		err := a.get(ctx, fmt.Sprintf("/support/conversations/%d/%d", demoAccount, base), &v)
		if errors.Is(err, errNotFound) {
			return base, nil
		}
		if err != nil {
			return 0, err
		}
		base += 10
	}
	return 0, errors.New("no free conversation ids: too many demo runs this minute")
}

// await polls the API until every scene's conversation is stored as sent
// (answered ones with their first response), each of its deliveries is in
// the delivery log (processed to the end), and the duplicate is counted.
func (a *apiClient) await(ctx context.Context, plan []scene, dupesBefore int64, wait time.Duration) ([]convView, int64, error) {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	views := make([]convView, len(plan))
	done := make([]bool, len(plan))
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		pending := []string{}
		for i, s := range plan {
			if done[i] {
				continue
			}
			var v convView
			err := a.get(ctx, fmt.Sprintf("/support/conversations/%d/%d", demoAccount, s.conv), &v)
			if err != nil && !errors.Is(err, errNotFound) && ctx.Err() == nil {
				return nil, 0, err
			}
			if err == nil && v.FirstCustomerMessageAt != nil && (!s.answered || v.FirstResponseAt != nil) {
				// The conversation is stored before the support steps
				// run (tags, SLA records, escalation); the delivery log's
				// entry is written with the event's completion, after them.
				complete, err := a.completed(ctx, s)
				if err != nil && ctx.Err() == nil {
					return nil, 0, err
				}
				if complete {
					views[i], done[i] = v, true
					continue
				}
			}
			pending = append(pending, s.name)
		}
		var d dailyView
		dupes := int64(-1)
		if err := a.get(ctx, "/support/stats", &d); err == nil {
			dupes = d.Duplicates
		}
		if dupes <= dupesBefore {
			pending = append(pending, "the duplicate")
		}
		if len(pending) == 0 {
			return views, dupes, nil
		}
		select {
		case <-ctx.Done():
			return nil, 0, fmt.Errorf("after %v still waiting for %s: is the worker running? (the server's log says)", wait, strings.Join(pending, ", "))
		case <-tick.C:
		}
	}
}

// completed reports whether every delivery of the scene has its entry in
// the delivery log.
func (a *apiClient) completed(ctx context.Context, s scene) (bool, error) {
	var v struct {
		Deliveries []struct {
			DeliveryID string `json:"delivery_id"`
		} `json:"deliveries"`
	}
	q := url.Values{"account": {strconv.FormatInt(demoAccount, 10)}, "conversation": {strconv.FormatInt(s.conv, 10)}, "limit": {"500"}}
	if err := a.get(ctx, "/support/deliveries?"+q.Encode(), &v); err != nil {
		return false, err
	}
	logged := map[string]bool{}
	for _, d := range v.Deliveries {
		logged[d.DeliveryID] = true
	}
	for _, send := range s.sends {
		if !logged[send.delivery] {
			return false, nil
		}
	}
	return true, nil
}
