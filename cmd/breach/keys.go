package main

import (
	"crypto/ed25519"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/config"
	"github.com/breachops/breach/internal/keys"
)

func newKeysCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Signing keys: every decision sent to an incident is signed, and the incident checks it",
	}
	var as string
	var ingress, web bool
	initCmd := &cobra.Command{
		Use:   "init (--as NAME | --slack-ingress | --web)",
		Short: "Create a signing key pair under BREACH_HOME/keys and print the public key for the configuration",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.config()
			if err != nil {
				return err
			}
			var signer string
			switch {
			case btoi(ingress)+btoi(web)+btoi(as != "") > 1:
				return usagef("give one of --as NAME, --slack-ingress and --web")
			case ingress:
				signer = incident.SlackIngress
			case web:
				signer = incident.WebDashboard
			case as != "":
				if signer, err = cliActor(as); err != nil {
					return err
				}
			default:
				return usagef("say whose key: --as NAME (a person at the command line), --slack-ingress or --web (the deadline board)")
			}
			k, created, err := keys.Create(cfg.Home, signer)
			if err != nil {
				return err
			}
			pub := incident.EncodePublicKey(k.Public().(ed25519.PublicKey))
			path, _ := keys.File(cfg.Home, signer)
			verb := "created"
			if !created {
				verb = "already exists"
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "signing key for %s %s: %s (keep it private)\n", signer, verb, path)
			switch signer {
			case incident.SlackIngress:
				fmt.Fprintf(out, "add to the configuration:\nsigning:\n  slack_ingress: %q\n", pub)
			case incident.WebDashboard:
				fmt.Fprintf(out, "add to the configuration:\nsigning:\n  web: %q\n", pub)
			default:
				fmt.Fprintf(out, "add to the configuration:\nsigning:\n  keys:\n    %s: %q\n", signer, pub)
			}
			return nil
		},
	}
	initCmd.Flags().StringVar(&as, "as", "", "the person the key is for (cli:NAME, or NAME)")
	initCmd.Flags().BoolVar(&ingress, "slack-ingress", false, "the key of the Slack ingress (breach serve), which signs for Slack users")
	initCmd.Flags().BoolVar(&web, "web", false, "the key of the deadline board (breach web, breach serve), which signs for the people it signed in")
	cmd.AddCommand(initCmd)
	return cmd
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// signingKeys are the public keys a declaration carries: those of the configuration, and with
// signing.trust_local_keys those kept in BREACH_HOME/keys. Every cli: actor of the roles must
// have one, Slack actors need the ingress's and oidc: actors the board's: otherwise nobody
// could act in the incident.
func signingKeys(cfg *config.Config, roles incident.Roles) (incident.Keys, error) {
	k := incident.Keys{Actors: map[string]string{}, SlackIngress: cfg.Signing.SlackIngress, Web: cfg.Signing.Web}
	if cfg.Signing.TrustLocalKeys {
		local, err := keys.Local(cfg.Home)
		if err != nil {
			return incident.Keys{}, fmt.Errorf("read the local public keys: %w", err)
		}
		for signer, pub := range local {
			switch signer {
			case incident.SlackIngress:
				if k.SlackIngress == "" {
					k.SlackIngress = pub
				}
			case incident.WebDashboard:
				if k.Web == "" {
					k.Web = pub
				}
			case incident.DrillAutopilot:
			default:
				k.Actors[signer] = pub
			}
		}
	}
	for actor, pub := range cfg.Signing.Keys {
		k.Actors[actor] = pub
	}
	var missing []string
	for _, actor := range append(append([]string{}, roles.DPO...), roles.Commander...) {
		src, _, err := incident.ParseActor(actor)
		if err != nil {
			return incident.Keys{}, usagef("roles: %v", err)
		}
		switch {
		case src == incident.SourceCLI && k.Actors[actor] == "":
			missing = append(missing, fmt.Sprintf("%s has no public key: run `breach keys init --as %s` and add what it prints to signing.keys (or set signing.trust_local_keys on a single machine)",
				actor, strings.TrimPrefix(actor, incident.SourceCLI+":")))
		case src == incident.SourceSlack && k.SlackIngress == "":
			missing = append(missing, fmt.Sprintf("%s is a Slack user, but the Slack ingress's public key is not configured: run `breach keys init --slack-ingress` and set signing.slack_ingress", actor))
		case src == incident.SourceOIDC && k.Web == "":
			missing = append(missing, fmt.Sprintf("%s signs in on the board, but the board's public key is not configured: run `breach keys init --web` and set signing.web", actor))
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return incident.Keys{}, usagef("nobody could act in this incident:\n  %s", strings.Join(dedupe(missing), "\n  "))
	}
	return k, nil
}

func dedupe(s []string) []string {
	out := s[:0]
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// autopilotKey is the worker's key for drills' auto-pilot: BREACH_AUTOPILOT_KEY_FILE, else
// BREACH_HOME/keys/drill-autopilot.key, made on first use. Workers of one cluster share it.
func autopilotKey(cfg *config.Config) (ed25519.PrivateKey, error) {
	if p := os.Getenv("BREACH_AUTOPILOT_KEY_FILE"); p != "" {
		return keys.Load(p)
	}
	k, _, err := keys.Create(cfg.Home, incident.DrillAutopilot)
	return k, err
}
