package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/pipeline/drafter"
	"supportpipe/internal/ports/store"
	"supportpipe/internal/ports/store/memstore"
)

func TestDraftsList(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	at := time.Date(2026, 5, 12, 9, 15, 0, 0, time.UTC)
	for i, r := range []drafter.Record{
		{RequestID: "draft:7:2:21", AccountID: 7, ConversationID: 2, MessageID: 21, Outcome: drafter.OutcomeSkipped,
			Reason: drafter.SkipNoDraft, Score: 0.1, Provider: "retrieval", At: at.Add(time.Minute)},
		{RequestID: "draft:7:1:11", AccountID: 7, ConversationID: 1, MessageID: 11, Outcome: drafter.OutcomeMade,
			Source: "double_charge", Score: 0.81, Provider: "retrieval", LatencyMS: 1250, At: at},
	} {
		b, err := json.Marshal(r)
		require.NoError(t, err)
		require.NoError(t, st.AddDayRecord(ctx, store.DayRecord{Day: "2026-05-12", Kind: drafter.DayRecordKind, ID: r.RequestID,
			Data: string(b), At: at.Add(time.Duration(i) * time.Second)}))
	}
	for _, tc := range []struct {
		outcome string
		want    string
	}{
		{"", "" +
			"AT        ACCOUNT  CONVERSATION  MESSAGE  OUTCOME                  SOURCE         SCORE  PROVIDER   LATENCY\n" +
			"09:15:00  7        1             11       made                     double_charge  0.81   retrieval  1.25s\n" +
			"09:16:00  7        2             21       skipped (no_good_draft)  -              0.10   retrieval  0s\n"},
		{drafter.OutcomeFailed, "no failed draft requests on 2026-05-12\n"},
	} {
		var out strings.Builder
		require.NoError(t, draftsList(ctx, st, "2026-05-12", tc.outcome, &out))
		assert.Equal(t, tc.want, out.String())
	}
}
