package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/ports/store"
	"supportpipe/internal/support/conversation"
)

// testRecordAction stores actions as given: a new one after the claimed
// ones, a replaced one in its place, empty fields emptied.
func (s suite) testRecordAction(t *testing.T) {
	ctx := t.Context()
	st := s.open(t)
	k := conversation.Key{AccountID: 1, ConversationID: 7}

	_, found, err := st.Action(ctx, k, "labels:1")
	require.NoError(t, err)
	assert.False(t, found)

	claimed, _, err := st.ClaimAction(ctx, store.Action{Key: k, ID: "note:escalation", Kind: "note", Owner: "m1",
		Detail: `{"template":"escalation"}`, At: base})
	require.NoError(t, err)
	require.True(t, claimed)
	label := store.Action{Key: k, ID: "labels:1", Kind: "label", Status: store.ActionDone, Owner: "m2",
		Detail: `{"add":["billing"]}`, Result: `["billing"]`, At: base.Add(-time.Hour)}
	require.NoError(t, st.RecordAction(ctx, label))
	got, found, err := st.Action(ctx, k, "labels:1")
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, label, strip(got))

	// Replacing the claimed note: done, no detail, same place.
	note := store.Action{Key: k, ID: "note:escalation", Kind: "note", Status: store.ActionDone, Owner: "m3", Result: "42", At: base}
	require.NoError(t, st.RecordAction(ctx, note))
	list, err := st.Actions(ctx, k)
	require.NoError(t, err)
	require.Len(t, list, 2)
	if s.opts.KeepsRemovedFields {
		list[0].Detail = ""
	}
	assert.Equal(t, []store.Action{note, label}, []store.Action{strip(list[0]), strip(list[1])}, "claim order kept")
	other, err := st.Actions(ctx, conversation.Key{AccountID: 2, ConversationID: 7})
	require.NoError(t, err)
	assert.Empty(t, other)
}

// strip drops the store's update time and normalises At for comparison.
func strip(a store.Action) store.Action {
	a.Updated = time.Time{}
	a.At = a.At.UTC()
	return a
}

func (s suite) testActions(t *testing.T) {
	ctx := t.Context()
	st := s.open(t)
	k := conversation.Key{AccountID: 1, ConversationID: 7}
	other := conversation.Key{AccountID: 2, ConversationID: 7}
	start := time.Now().Add(-time.Second)

	// Claim order (note, label, draft) differs from both id order and At
	// order, so a driver sorting by either fails.
	note := store.Action{Key: k, ID: "note:escalation", Kind: "note", Status: store.ActionPending, Owner: "msg-1",
		Detail: `{"template":"escalation"}`, At: base.Add(time.Minute)}
	label := store.Action{Key: k, ID: "label:escalated", Kind: "label", Status: store.ActionPending,
		Detail: `{"label":"escalated"}`, At: base}
	draft := store.Action{Key: k, ID: "draft:100", Kind: "draft", Status: store.ActionPending} // At from the store's clock
	labelOther := label
	labelOther.Key = other

	with := func(a store.Action, status, result string) store.Action {
		a.Status, a.Result = status, result
		return a
	}
	type finish struct {
		k                  conversation.Key
		id, status, result string
	}
	steps := []struct {
		name         string
		claim        store.Action // claimed when ID is set
		finish       *finish
		wantClaimed  bool
		wantExisting store.Action
		wantErr      bool
		want         []store.Action // Actions(k) afterwards
		wantOther    []store.Action // Actions(other) afterwards
	}{
		{
			name: "no actions", want: nil, wantOther: nil,
		},
		{
			name: "claim", claim: note, wantClaimed: true,
			want: []store.Action{note},
		},
		{
			name:        "claim stores pending and no result whatever the caller says",
			claim:       with(label, store.ActionDone, "early"),
			wantClaimed: true,
			want:        []store.Action{note, label},
		},
		{
			name: "claim without a time", claim: draft, wantClaimed: true,
			want: []store.Action{note, label, draft},
		},
		{
			name: "second claim returns the stored record",
			claim: store.Action{Key: k, ID: "label:escalated", Kind: "other", Detail: `{"other":true}`,
				At: base.Add(time.Hour)},
			wantExisting: label,
			want:         []store.Action{note, label, draft},
		},
		{
			name: "same id in another conversation", claim: labelOther, wantClaimed: true,
			want: []store.Action{note, label, draft}, wantOther: []store.Action{labelOther},
		},
		{
			name:   "finish done",
			finish: &finish{k, "label:escalated", store.ActionDone, `{"ok":true}`},
			want:   []store.Action{note, with(label, store.ActionDone, `{"ok":true}`), draft}, wantOther: []store.Action{labelOther},
		},
		{
			name:  "claim after finish returns the finished record",
			claim: label, wantExisting: with(label, store.ActionDone, `{"ok":true}`),
			want: []store.Action{note, with(label, store.ActionDone, `{"ok":true}`), draft}, wantOther: []store.Action{labelOther},
		},
		{
			name:      "finish failed",
			finish:    &finish{k, "note:escalation", store.ActionFailed, "status 502"},
			want:      []store.Action{with(note, store.ActionFailed, "status 502"), with(label, store.ActionDone, `{"ok":true}`), draft},
			wantOther: []store.Action{labelOther},
		},
		{
			name:   "finish unknown id fails and creates nothing",
			finish: &finish{k, "note:missing", store.ActionDone, ""}, wantErr: true,
			want:      []store.Action{with(note, store.ActionFailed, "status 502"), with(label, store.ActionDone, `{"ok":true}`), draft},
			wantOther: []store.Action{labelOther},
		},
		{
			name:   "finish id claimed only in another conversation fails",
			finish: &finish{other, "note:escalation", store.ActionDone, ""}, wantErr: true,
			want:      []store.Action{with(note, store.ActionFailed, "status 502"), with(label, store.ActionDone, `{"ok":true}`), draft},
			wantOther: []store.Action{labelOther},
		},
	}
	for _, step := range steps {
		ok := t.Run(step.name, func(t *testing.T) {
			switch {
			case step.claim.ID != "":
				claimed, existing, err := st.ClaimAction(ctx, step.claim)
				require.NoError(t, err)
				assert.Equal(t, step.wantClaimed, claimed)
				if !step.wantClaimed {
					checkAction(t, step.wantExisting, existing, start)
				}
			case step.finish != nil:
				f := step.finish
				err := st.FinishAction(ctx, f.k, f.id, f.status, f.result)
				if step.wantErr {
					assert.ErrorIs(t, err, store.ErrNotFound)
				} else {
					assert.NoError(t, err)
				}
			}
			for key, want := range map[conversation.Key][]store.Action{k: step.want, other: step.wantOther} {
				got, err := st.Actions(ctx, key)
				require.NoError(t, err)
				require.Len(t, got, len(want), "actions of %v", key)
				for i := range want {
					checkAction(t, want[i], got[i], start)
				}
			}
		})
		if !ok {
			return // later steps build on this one
		}
	}
}

// checkAction compares an action, ignoring Updated (the store's clock) and
// a zero wanted At, after checking both came from a clock running now.
func checkAction(t *testing.T, want, got store.Action, start time.Time) {
	t.Helper()
	end := time.Now().Add(time.Second)
	assert.WithinRange(t, got.Updated, start, end, "updated time of %s", got.ID)
	got.Updated = time.Time{}
	if want.At.IsZero() {
		assert.WithinRange(t, got.At, start, end, "default claim time of %s", got.ID)
		got.At = time.Time{}
	}
	got.At = utc(got.At)
	assert.Equal(t, want, got)
}

func (s suite) testClaimActionConcurrent(t *testing.T) {
	ctx := t.Context()
	st := s.open(t)
	k := conversation.Key{AccountID: 1, ConversationID: 7}
	const n = 10

	claimed := make([]bool, n)
	existing := make([]store.Action, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			claimed[i], existing[i], errs[i] = st.ClaimAction(ctx, store.Action{Key: k, ID: "draft:1", Kind: "draft",
				Detail: fmt.Sprintf(`{"writer":%d}`, i), At: base})
		})
	}
	wg.Wait()
	winner := -1
	for i := range n {
		require.NoError(t, errs[i])
		if claimed[i] {
			assert.Equal(t, -1, winner, "claimed twice")
			winner = i
		}
	}
	require.NotEqual(t, -1, winner, "nobody claimed")
	want := fmt.Sprintf(`{"writer":%d}`, winner)
	for i := range n {
		if !claimed[i] {
			assert.Equal(t, want, existing[i].Detail, "writer %d sees another record than the winner's", i)
		}
	}
	got, err := st.Actions(ctx, k)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, want, got[0].Detail)
}

func (s suite) testDayRecords(t *testing.T) {
	ctx := t.Context()
	st := s.open(t)
	const day, kind = "2026-03-01", "sla_breach"
	rec := func(day, kind, id string, at time.Time) store.DayRecord {
		return store.DayRecord{Day: day, Kind: kind, ID: id, Data: fmt.Sprintf(`{"id":%q,"kind":%q}`, id, kind), At: at}
	}
	// Ids are listed bytewise, not numerically: "10" < "9" < "a:10" < "a:2" < "c".
	c, a2, a10, n9, n10 := rec(day, kind, "c", base.Add(1)), rec(day, kind, "a:2", base.Add(2)),
		rec(day, kind, "a:10", base.Add(3)), rec(day, kind, "9", base.Add(4)), rec(day, kind, "10", base.Add(5))
	esc := rec(day, "escalation", "a:2", base)
	nextDay := rec("2026-03-02", kind, "0", base.Add(24*time.Hour))
	for _, r := range []store.DayRecord{c, a2, a10, n9, n10, esc, nextDay} {
		require.NoError(t, st.AddDayRecord(ctx, r))
	}
	replaced := a10
	replaced.Data, replaced.At = `{"replaced":true}`, base.Add(time.Hour)
	noTime := rec(day, "dead_letter", "m1", time.Time{})
	// A record filed from conversation version 5, then again from the
	// older version 4 (the event that merged first, written last), then
	// from 6 and from 6 again.
	v5 := rec(day, "sla", "p1", base.Add(5))
	v5.Data, v5.Version = `{"state":"met"}`, 5
	v4 := v5
	v4.Data, v4.Version, v4.At = `{"state":"pending"}`, 4, base.Add(6)
	v6 := v5
	v6.Data, v6.Version, v6.At = `{"state":"met","again":true}`, 6, base.Add(7)
	v6again := v6
	v6again.Data = `{"state":"met","again":2}`
	unversioned := v5
	unversioned.Data, unversioned.Version = `{"unversioned":true}`, 0

	steps := []struct {
		name      string
		add       []store.DayRecord
		day, kind string
		limit     int
		want      []store.DayRecord
	}{
		{name: "by id", day: day, kind: kind, limit: 10, want: []store.DayRecord{n10, n9, a10, a2, c}},
		{name: "limit", day: day, kind: kind, limit: 2, want: []store.DayRecord{n10, n9}},
		{name: "limit equals count", day: day, kind: kind, limit: 5, want: []store.DayRecord{n10, n9, a10, a2, c}},
		{name: "limit zero", day: day, kind: kind, limit: 0, want: nil},
		{name: "other kind", day: day, kind: "escalation", limit: 10, want: []store.DayRecord{esc}},
		{name: "other day", day: "2026-03-02", kind: kind, limit: 10, want: []store.DayRecord{nextDay}},
		{name: "unknown kind", day: day, kind: "sla", limit: 10, want: nil},
		{name: "unknown day", day: "2026-03-03", kind: kind, limit: 10, want: nil},
		{
			name: "same triple replaces", add: []store.DayRecord{replaced, replaced},
			day: day, kind: kind, limit: 10, want: []store.DayRecord{n10, n9, replaced, a2, c},
		},
		{
			name: "zero time", add: []store.DayRecord{noTime},
			day: day, kind: "dead_letter", limit: 10, want: []store.DayRecord{noTime},
		},
		{name: "a version", add: []store.DayRecord{v5}, day: day, kind: "sla", limit: 10, want: []store.DayRecord{v5}},
		{name: "an older version is ignored", add: []store.DayRecord{v4}, day: day, kind: "sla", limit: 10, want: []store.DayRecord{v5}},
		{name: "an unversioned write is older", add: []store.DayRecord{unversioned}, day: day, kind: "sla", limit: 10, want: []store.DayRecord{v5}},
		{name: "a newer version replaces", add: []store.DayRecord{v6}, day: day, kind: "sla", limit: 10, want: []store.DayRecord{v6}},
		{name: "the same version replaces", add: []store.DayRecord{v6again}, day: day, kind: "sla", limit: 10, want: []store.DayRecord{v6again}},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			for _, r := range step.add {
				require.NoError(t, st.AddDayRecord(ctx, r))
			}
			got, err := st.DayRecords(ctx, step.day, step.kind, step.limit)
			require.NoError(t, err)
			for i := range got {
				got[i].At = utc(got[i].At)
			}
			if len(step.want) == 0 {
				assert.Empty(t, got)
			} else {
				assert.Equal(t, step.want, got)
			}
		})
	}
}

func (s suite) testMarks(t *testing.T) {
	ctx := t.Context()
	st := s.open(t)
	const name, other = "sla.last_run", "report.last_sent"
	at := func(t time.Time) *time.Time { return &t }
	steps := []struct {
		name string
		mark string
		set  *time.Time // nil: read only
		want time.Time  // Mark(mark) afterwards
	}{
		{name: "none", mark: name, want: time.Time{}},
		{name: "first", mark: name, set: at(base), want: base},
		{name: "earlier is ignored", mark: name, set: at(base.Add(-time.Hour)), want: base},
		{name: "equal is kept", mark: name, set: at(base), want: base},
		{name: "later by a nanosecond", mark: name, set: at(base.Add(1)), want: base.Add(1)},
		{name: "zero is ignored", mark: name, set: at(time.Time{}), want: base.Add(1)},
		{name: "other zone, same instant", mark: name, set: at(base.Add(1).In(time.FixedZone("X", 3600))), want: base.Add(1)},
		{name: "other zone, later", mark: name, set: at(base.Add(time.Hour).In(time.FixedZone("X", -3600))), want: base.Add(time.Hour)},
		{name: "names are independent", mark: other, set: at(base.Add(-24 * time.Hour)), want: base.Add(-24 * time.Hour)},
		{name: "zero on a new name stores nothing", mark: "new", set: at(time.Time{}), want: time.Time{}},
		{name: "first name unchanged", mark: name, want: base.Add(time.Hour)},
	}
	for _, step := range steps {
		ok := t.Run(step.name, func(t *testing.T) {
			if step.set != nil {
				require.NoError(t, st.SetMark(ctx, step.mark, *step.set))
			}
			got, err := st.Mark(ctx, step.mark)
			require.NoError(t, err)
			assert.Equal(t, step.want, utc(got))
		})
		if !ok {
			return // later steps build on this one
		}
	}
}

func (s suite) testSetMarkConcurrent(t *testing.T) {
	ctx := t.Context()
	st := s.open(t)
	const n = 12
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			// A permutation of 0..n-1 minutes: the maximum is not the last writer started.
			errs[i] = st.SetMark(ctx, "m", base.Add(time.Duration((i*7)%n)*time.Minute))
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	got, err := st.Mark(ctx, "m")
	require.NoError(t, err)
	assert.Equal(t, base.Add((n-1)*time.Minute), utc(got))
}

func (s suite) testPing(t *testing.T) {
	st := s.open(t)
	assert.NoError(t, st.Ping(t.Context()))
}
