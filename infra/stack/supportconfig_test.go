package stack

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/jsii-runtime-go"
)

func TestSupportConfigCheckedAtSynth(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(good, []byte("sla: {first_response: 30m}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("sla: {first_respons: 30m}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, c, err := supportConfig(good); err != nil || got != "sla: {first_response: 30m}\n" || c.SLA.FirstResponse.Minutes() != 30 {
		t.Errorf("content not passed through: %q, %v", got, err)
	}
	if got, c, err := supportConfig(""); err != nil || got != "" || c == nil {
		t.Errorf("no file should mean defaults, got %q, %v", got, err)
	}
	if _, _, err := supportConfig(bad); err == nil || !strings.Contains(err.Error(), "first_respons") {
		t.Errorf("an invalid configuration must fail the synth naming the key, got %v", err)
	}
}

// TestQueueAlarmsFollowTheConfig: the depth alarms read queue.alert_depth
// and queue.escalate_depth, as the local mode and health do.
func TestQueueAlarmsFollowTheConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "support.yaml")
	if err := os.WriteFile(path, []byte("queue: {alert_depth: 30, escalate_depth: 60}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir()), Context: &map[string]interface{}{CtxSupportConfig: path}})
	st := NewSupportStack(app, "ConfiguredStack", &Props{DistDir: placeholderDist})
	got := map[string]interface{}{}
	for _, id := range []string{"QueueDepthAlarm", "QueueDepthEscalationAlarm"} {
		el := st.Alarms[id].Node().DefaultChild().(awscloudwatch.CfnAlarm)
		got[id] = *el.Threshold()
	}
	if got["QueueDepthAlarm"] != 30.0 || got["QueueDepthEscalationAlarm"] != 60.0 {
		t.Errorf("thresholds %v, want 30 and 60 from the configuration", got)
	}
}
