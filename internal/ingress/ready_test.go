package ingress_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	tlog "go.temporal.io/sdk/log"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/ingress"
	breachslack "github.com/breachops/breach/internal/slack"
	"github.com/breachops/breach/internal/slack/slackfake"
)

// unreachable is what a person is told while Temporal is away.
const unreachable = "breach could not reach Temporal; try again in a minute, or use the CLI runbook"

// outage is a Temporal that goes away and comes back. While it is down every call, Check
// included, waits until its context ends, as the SDK's client does while it redials an address
// that does not answer (a firewall dropping packets: the slowest case). While it is stalled it
// answers Check, but the work itself waits until its context ends.
type outage struct {
	*fakeTemporal
	down, stalled atomic.Bool
}

func (o *outage) away(ctx context.Context) error {
	if !o.down.Load() && !o.stalled.Load() {
		return nil
	}
	<-ctx.Done()
	return ctx.Err()
}

func (o *outage) Declare(ctx context.Context, d incident.Declaration) (bool, error) {
	if err := o.away(ctx); err != nil {
		return false, err
	}
	return o.fakeTemporal.Declare(ctx, d)
}

func (o *outage) Update(ctx context.Context, id, name string, arg any) (string, error) {
	if err := o.away(ctx); err != nil {
		return "", err
	}
	return o.fakeTemporal.Update(ctx, id, name, arg)
}

func (o *outage) Status(ctx context.Context, id string) (incident.Status, error) {
	if err := o.away(ctx); err != nil {
		return incident.Status{}, err
	}
	return o.fakeTemporal.Status(ctx, id)
}

func (o *outage) Open(ctx context.Context) ([]ingress.OpenIncident, error) {
	if err := o.away(ctx); err != nil {
		return nil, err
	}
	return o.fakeTemporal.Open(ctx)
}

func (o *outage) Check(ctx context.Context) error {
	if o.down.Load() {
		<-ctx.Done()
		return ctx.Err()
	}
	return o.fakeTemporal.Check(ctx)
}

// get fetches path of the ingress and returns its status and body.
func (h *harness) get(path string) (int, string) {
	h.t.Helper()
	resp, err := http.Get(h.url + path)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(h.t, err)
	return resp.StatusCode, string(b)
}

// slackDeadline is how long Slack waits for the acknowledgement before it shows the person an
// error: a person whose client gives up sooner sees an error where Slack would.
const slackDeadline = 3 * time.Second

// While Temporal is away the ingress stays live, says it is not ready, and acknowledges every
// command, click and form at once; the person is told, within the work's deadline, that
// Temporal could not be reached and what to do, and a declaration that could not start is
// handed back as the CLI command that starts it. When Temporal returns, the next command works,
// without a restart.
func TestTemporalAway(t *testing.T) {
	var o *outage
	h := newHarnessWith(t, options{configure: func(c *ingress.Config) {
		o = &outage{fakeTemporal: c.Temporal.(*fakeTemporal)}
		o.down.Store(true)
		c.Temporal = o
		// Without the readiness check, work would wait for Temporal this long and then say it
		// did not answer in time.
		c.WorkTimeout = 10 * time.Second
	}})
	ic := h.person(icID, "ian")
	ic.HTTP = &http.Client{Timeout: slackDeadline}
	room := h.incident() // declared before the outage, in the fake behind it

	code, body := h.get(ingress.PathHealth)
	assert.Equal(t, http.StatusOK, code, "alive while Temporal is away: %s", body)
	code, body = h.get(ingress.PathReady)
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, "not ready: Temporal does not answer\n", body)

	said := func(n int) string {
		t.Helper()
		h.srv.Wait()
		got := h.ephemeralsFor(icID)
		require.Len(t, got, n, "what %s was told: %q", icID, got)
		return got[n-1]
	}
	acknowledged := func(res slackfake.Result, err error) {
		t.Helper()
		require.NoError(t, err, "acknowledged within Slack's 3 seconds")
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	}

	t.Run("a command", func(t *testing.T) {
		acknowledged(ic.Command(room.ID, "status"))
		assert.Contains(t, said(1), unreachable)
	})
	t.Run("a button", func(t *testing.T) {
		closing := h.post(room, "ready-to-close", "Every step is done. breach close "+incidentID)
		acknowledged(ic.Click(closing, breachslack.ActionClose))
		assert.Contains(t, said(2), unreachable)
		assert.Empty(t, h.temporal.Updates())
	})
	t.Run("a declaration", func(t *testing.T) {
		acknowledged(ic.Command("C0GENERAL", "declare Backup exposed"))
		h.srv.Wait()
		require.Len(t, h.ws.Views(), 1, "the form opens: it needs Slack, not Temporal")
		acknowledged(ic.Submit(h.ws.Views()[0], declareValues("shop-db", "crm-api").
			Set(breachslack.InputTitle, slackfake.Text("Dana's <shop> backup"))))
		got := said(3)
		assert.Contains(t, got, "The incident was not declared: "+unreachable)
		assert.Contains(t, got, `breach declare --title 'Dana'\''s &lt;shop&gt; backup' --system shop-db --system crm-api --aware-at `)
		assert.Contains(t, got, "--description 'Severity: high. A backup bucket was public.' --dataset "+storedDataset+" --key slack:")
		assert.Empty(t, h.temporal.Declared())
	})
	for _, s := range h.ephemeralsFor(icID) {
		assert.NotContains(t, s, "did not answer in time")
	}

	o.down.Store(false)
	require.Eventually(t, func() bool {
		resp, err := http.Get(h.url + ingress.PathReady)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 100*time.Millisecond, "/readyz says ready once Temporal is back")
	code, body = h.get(ingress.PathReady)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "ready\n", body)

	acknowledged(ic.Command(room.ID, "status"))
	assert.Contains(t, said(4), incidentID+": Customer DB exposed")
	acknowledged(ic.Command("C0GENERAL", "declare Backup exposed"))
	h.srv.Wait()
	require.Len(t, h.ws.Views(), 2)
	acknowledged(ic.Submit(h.ws.Views()[1], declareValues("shop-db")))
	assert.Contains(t, said(5), "declared: isolation of shop-db has started")
	require.Len(t, h.temporal.Declared(), 1)
	assert.Contains(t, h.logs.String(), "Temporal answers again")
}

// Work that waited for Temporal until its own deadline still tells the person: the reply gets
// time of its own.
func TestToldWhenTheWorkTimesOut(t *testing.T) {
	var o *outage
	h := newHarnessWith(t, options{configure: func(c *ingress.Config) {
		o = &outage{fakeTemporal: c.Temporal.(*fakeTemporal)}
		o.stalled.Store(true)
		c.Temporal = o
		c.WorkTimeout = time.Second
	}})
	_, err := h.ic.Command("C0GENERAL", "declare Backup exposed")
	require.NoError(t, err)
	h.srv.Wait()
	require.Len(t, h.ws.Views(), 1)
	_, err = h.ic.Submit(h.ws.Views()[0], declareValues("shop-db"))
	require.NoError(t, err)
	h.srv.Wait()
	said := h.ephemeralsFor(icID)
	require.Len(t, said, 1, "the declarer is told")
	assert.Contains(t, said[0], "The incident was not declared: Temporal did not answer in time")
	assert.Contains(t, unescaped(said[0]), "breach declare --title 'Customer DB exposed' --system shop-db")
}

// Through the SDK's client, as `breach serve` runs: a lazy client at an address where nothing
// listens is not ready, and a declaration is handed back at once with what to do, where the
// SDK would retry starting the workflow until the work's timeout and the person would hear
// nothing.
func TestUnreachableThroughTheSDK(t *testing.T) {
	c, err := client.NewLazyClient(client.Options{HostPort: unusedAddress(t), Logger: tlog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	h := newHarnessWith(t, options{configure: func(cfg *ingress.Config) {
		cfg.Temporal = ingress.NewTemporal(c, converter.GetDefaultDataConverter())
		cfg.WorkTimeout = 10 * time.Second
	}})
	code, _ := h.get(ingress.PathReady)
	assert.Equal(t, http.StatusServiceUnavailable, code)

	_, err = h.ic.Command("C0GENERAL", "declare Backup exposed")
	require.NoError(t, err)
	h.srv.Wait()
	require.Len(t, h.ws.Views(), 1)
	_, err = h.ic.Submit(h.ws.Views()[0], declareValues("shop-db"))
	require.NoError(t, err)
	h.srv.Wait()
	said := h.ephemeralsFor(icID)
	require.Len(t, said, 1, "the declarer is told")
	assert.Contains(t, said[0], "The incident was not declared: "+unreachable)
	assert.NotContains(t, strings.ToLower(said[0]), "connection refused")
}

// unusedAddress is a loopback address nothing listens on.
func unusedAddress(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}
