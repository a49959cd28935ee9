package stack

import (
	"os"
	"path/filepath"
	"testing"
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
	if got := supportConfig(good); got != "sla: {first_response: 30m}\n" {
		t.Errorf("content not passed through: %q", got)
	}
	if got := supportConfig(""); got != "" {
		t.Errorf("no file should mean defaults, got %q", got)
	}
	defer func() {
		if r := recover(); r == nil {
			t.Error("an invalid configuration must fail the synth")
		}
	}()
	supportConfig(bad)
}
