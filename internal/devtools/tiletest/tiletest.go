// Package tiletest drives the support queue tile (<support-queue-tile>) in
// headless Chromium for tests: the tile's own tests in internal/ops/api,
// and the demo's, which look at the tile a user would open after it.
package tiletest

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/devtools/waitfor"
)

// Chromium is where the tests expect the browser: CI installs it with
// apt-get install -y chromium.
const Chromium = "/usr/bin/chromium"

// HostJS is the tile element of the page, as JavaScript.
const HostJS = `document.querySelector("support-queue-tile")`

// NewBrowser starts one headless Chromium, closed when t ends; a test opens
// a tab of it for each page. It skips t when Chromium is not installed, so
// that a machine without it still runs everything else.
func NewBrowser(t testing.TB) context.Context {
	t.Helper()
	if _, err := os.Stat(Chromium); err != nil {
		t.Skipf("the tile tests need Chromium at %s (apt-get install -y chromium): %v", Chromium, err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(Chromium), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
		// Fixed, so the rendered times and the screenshots do not depend on the machine.
		chromedp.Env("TZ=UTC"), chromedp.Flag("lang", "en-US"),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	require.NoError(t, chromedp.Do(ctx), "start Chromium")
	return ctx
}

// NewTab opens a tab of browser, closed when t ends.
func NewTab(t testing.TB, browser context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	// A hung browser, not a slow one.
	ctx, cancelTimeout := context.WithTimeout(ctx, waitfor.Hang)
	t.Cleanup(cancelTimeout)
	return ctx
}

// Navigate opens url in tab.
func Navigate(t testing.TB, tab context.Context, url string) {
	t.Helper()
	require.NoError(t, chromedp.Do(tab, chromedp.Navigate(url)))
}

// EvalJSON evaluates js in tab and decodes its value.
func EvalJSON[T any](t testing.TB, tab context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(tab, chromedp.Evaluate[T](js))
	require.NoError(t, err)
	return v
}

// Poll waits until the JavaScript predicate holds. A failure shows what
// the tile shows by then.
func Poll(t testing.TB, tab context.Context, predicate string) {
	t.Helper()
	_, err := chromedp.Run(tab, chromedp.Poll[bool](predicate,
		chromedp.WithPollingInterval(waitfor.Tick), chromedp.WithPollingTimeout(waitfor.Hang)))
	require.NoError(t, err, "waiting for %s; the tile shows %+v", predicate, Read(t, tab))
}

// View is what the tile shows, read from its shadow DOM.
type View struct {
	State   string           `json:"state"`
	Busy    string           `json:"busy"`
	Retry   bool             `json:"retry"`   // the Retry button is visible
	Numbers bool             `json:"numbers"` // the definition list is visible
	Fields  map[string]Field `json:"fields"`  // by data-field
}

// Field is one data-field element: its data-value and its text.
type Field struct {
	Value string `json:"value"`
	Text  string `json:"text"`
}

// Read reads what the tile of tab shows now.
func Read(t testing.TB, tab context.Context) View {
	t.Helper()
	return EvalJSON[View](t, tab, `(() => {
  const host = `+HostJS+`, root = host.shadowRoot;
  const fields = {};
  for (const el of root.querySelectorAll("[data-field]")) {
    fields[el.dataset.field] = {value: el.dataset.value ?? "", text: el.textContent};
  }
  return {
    state: host.getAttribute("state") ?? "",
    busy: root.querySelector("section").getAttribute("aria-busy"),
    retry: root.querySelector("[data-action=retry]").checkVisibility(),
    numbers: root.querySelector("dl").checkVisibility(),
    fields,
  };
})()`)
}

// WaitState waits until the tile's state attribute is state (loading,
// error or data), and returns what it shows then.
func WaitState(t testing.TB, tab context.Context, state string) View {
	t.Helper()
	Poll(t, tab, fmt.Sprintf(`%s?.getAttribute("state") === %q`, HostJS, state))
	return Read(t, tab)
}

// Screenshot writes the tile element, at twice its CSS size so that it stays
// sharp on high-density screens, as a PNG to path when UPDATE_SCREENSHOTS=1;
// otherwise it does nothing, so that test runs leave the docs alone.
func Screenshot(t testing.TB, tab context.Context, path string) {
	t.Helper()
	if os.Getenv("UPDATE_SCREENSHOTS") != "1" {
		return
	}
	png, err := chromedp.Run(tab, chromedp.ScreenshotScale(chromedp.CSS("support-queue-tile"), 2))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, png, 0o644))
}
