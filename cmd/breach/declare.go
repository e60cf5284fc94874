package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/breachops/breach/activities"
	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/config"
	"github.com/breachops/breach/internal/infile"
	"github.com/breachops/breach/workflows"
)

type declareFlags struct {
	title, description, awareAt, subjects, key, as string
	systems                                        []string
	drill, json                                    bool
}

func newDeclareCmd(g *globals) *cobra.Command {
	f := &declareFlags{}
	cmd := &cobra.Command{
		Use:   "declare --title TEXT --system NAME [--system NAME…] [--subjects FILE.csv]",
		Short: "Declare a suspected breach and start the plan",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.config()
			if err != nil {
				return err
			}
			d, err := f.declaration(cfg, time.Now())
			if err != nil {
				return err
			}
			c, err := dial(cmd.Context())
			if err != nil {
				return err
			}
			defer c.Close()
			res, err := declare(cmd.Context(), c, d)
			if err != nil {
				return err
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), res)
			}
			verb := "declared"
			if res.Existing {
				verb = "already declared with this key"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n  follow: breach status %s --watch\n", res.IncidentID, verb, res.IncidentID)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.title, "title", "", "short title of the incident (required)")
	fl.StringVar(&f.description, "description", "", "what happened, in a few sentences (no personal data)")
	fl.StringArrayVar(&f.systems, "system", nil, "affected system: an inventory name or an IP address/CIDR (repeatable, at least one)")
	fl.StringVar(&f.awareAt, "aware-at", "", "when the organisation became aware, RFC 3339 (default: now)")
	fl.StringVar(&f.subjects, "subjects", "", "CSV export of the affected data subjects")
	fl.StringVar(&f.key, "key", "", "idempotency key: declaring again with the same key returns the same incident")
	fl.BoolVar(&f.drill, "drill", false, "a tabletop drill: nothing is filed with any authority")
	fl.StringVar(&f.as, "as", defaultIdentity(), "who declares")
	fl.BoolVar(&f.json, "json", false, "print the result as JSON")
	return cmd
}

func defaultIdentity() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return os.Getenv("USER")
}

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s takes no arguments, got %q (did you forget a flag name?)", cmd.Name(), strings.Join(args, " "))
	}
	return nil
}

func oneIncidentArg(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usagef("%s needs exactly one incident ID (e.g. INC-20261128-7F3A)", cmd.Name())
	}
	if err := incident.ValidateID(args[0]); err != nil {
		return usagef("%v", err)
	}
	return nil
}

// declaration checks the flags, and the systems against the inventory, and builds the
// declaration; nothing starts on bad input.
func (f *declareFlags) declaration(cfg *config.Config, now time.Time) (workflows.Declaration, error) {
	if strings.TrimSpace(f.title) == "" {
		return workflows.Declaration{}, usagef("--title is required: give the incident a short title")
	}
	if len(f.systems) == 0 {
		return workflows.Declaration{}, usagef("no affected system: name at least one with --system NAME (an inventory name or an IP address)")
	}
	aware := now
	zone := "Local"
	if f.awareAt != "" {
		t, err := time.Parse(time.RFC3339, f.awareAt)
		if err != nil {
			return workflows.Declaration{}, usagef("--aware-at %q is not an RFC 3339 time with offset; write it like 2026-11-28T09:30:00+01:00", f.awareAt)
		}
		if t.After(now.Add(time.Minute)) {
			return workflows.Declaration{}, usagef("--aware-at %s is in the future; give the moment the organisation became aware (or omit it for now)", f.awareAt)
		}
		aware = t
		zone = t.Format("-07:00")
	} else if loc := time.Local.String(); loc != "" {
		zone = loc
	}
	var ds activities.DatasetRef
	if f.subjects != "" {
		abs, err := subjectsFile(f.subjects)
		if err != nil {
			return workflows.Declaration{}, err
		}
		ds.URI = abs
	}
	id := newIncidentID(aware, f.key, now, 0)
	d := workflows.Declaration{
		IncidentID: id, Title: strings.TrimSpace(f.title), Description: f.description, Systems: f.systems,
		AwareAt: aware.UTC(), AwareZone: zone, DeclaredBy: f.as, Source: "cli", Drill: f.drill, Subjects: ds, Key: f.key,
	}
	if f.drill {
		d.Source = "drill"
	}
	declarationDefaults(cfg, &d)
	if err := workflows.ValidateDeclaration(d); err != nil {
		return workflows.Declaration{}, usagef("%v", err)
	}
	fw, err := newFirewalls(cfg)
	if err != nil {
		return workflows.Declaration{}, err
	}
	if err := checkSystems(fw, d.Systems); err != nil {
		return workflows.Declaration{}, err
	}
	return d, nil
}

// subjectsFile checks a --subjects path: a regular file (not a directory, device, named pipe
// or socket) that can be read. It returns the absolute path the worker will open.
func subjectsFile(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", usagef("--subjects %s: %v", path, err)
	}
	if err := infile.Check(abs, 0); err != nil {
		var ie *infile.Error
		if errors.As(err, &ie) {
			return "", usagef("--subjects %v (a CSV export of the affected people)", err)
		}
		return "", usagef("--subjects %s cannot be read: %v; check the path and permissions", path, err)
	}
	return abs, nil
}

// newIncidentID makes INC-YYYYMMDD-XXXX. With a key the suffix and date derive from the key and
// the awareness time, so the same declaration maps to the same incident; attempt moves to the
// next candidate when another incident already holds the ID.
func newIncidentID(aware time.Time, key string, now time.Time, attempt int) string {
	if key != "" {
		return incident.KeyedID(aware, key, attempt)
	}
	return incident.NewID(now)
}

// memoKey names the memo field holding a hash of the declaration key, so that a keyed declare
// can tell its own incident from another that happens to have the same ID.
const memoKey = "breach_key_sha256"

func keyHash(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])
}

type declareResult struct {
	IncidentID string `json:"incident_id"`
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
	Existing   bool   `json:"existing"`
}

// declare starts the incident workflow. With a key, declaring again returns the incident
// started with that key; an ID already taken by another incident moves on to the next candidate.
func declare(ctx context.Context, c client.Client, d workflows.Declaration) (declareResult, error) {
	const attempts = 8
	for attempt := 0; attempt < attempts; attempt++ {
		if attempt > 0 {
			d.IncidentID = newIncidentID(d.AwareAt, d.Key, time.Now(), attempt)
		}
		wid := workflows.IncidentWorkflowID(d.IncidentID)
		res := declareResult{IncidentID: d.IncidentID, WorkflowID: wid}
		opts := client.StartWorkflowOptions{
			ID:                       wid,
			TaskQueue:                workflows.TaskQueue,
			WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
			WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
			// Without this the SDK hands back the run already holding the ID as if it were ours.
			WorkflowExecutionErrorWhenAlreadyStarted: true,
		}
		if d.Key != "" {
			opts.Memo = map[string]any{memoKey: keyHash(d.Key)}
		}
		run, err := c.ExecuteWorkflow(ctx, opts, workflows.IncidentWorkflow, d)
		var already *serviceerror.WorkflowExecutionAlreadyStarted
		if errors.As(err, &already) {
			if d.Key != "" && startedWithKey(ctx, c, wid, d.Key) {
				res.Existing = true
				res.RunID = already.RunId
				return res, nil
			}
			continue
		}
		if err != nil {
			return res, fmt.Errorf("start incident %s: %w", d.IncidentID, err)
		}
		res.RunID = run.GetRunID()
		return res, nil
	}
	return declareResult{}, fmt.Errorf("no free incident ID after %d attempts; try again", attempts)
}

// startedWithKey reports whether the incident wid was declared with key.
func startedWithKey(ctx context.Context, c client.Client, wid, key string) bool {
	desc, err := c.DescribeWorkflow(ctx, wid, "")
	if err != nil {
		return false
	}
	p := desc.RawResponse.GetWorkflowExecutionInfo().GetMemo().GetFields()[memoKey]
	if p == nil {
		return false
	}
	var got string
	if err := converter.GetDefaultDataConverter().FromPayload(p, &got); err != nil {
		return false
	}
	return got == keyHash(key)
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func urlPathEscape(s string) string { return url.PathEscape(s) }
