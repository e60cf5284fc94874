package firewall

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/breachops/breach/internal/infile"
)

// Provider names as they appear in the inventory.
const (
	ProviderDryRun   = "dry-run"
	ProviderNFTables = "nftables"
	ProviderAWS      = "aws"
	ProviderOPNsense = "opnsense"
	ProviderWebhook  = "webhook"
)

// providerNames lists every provider an inventory may name.
var providerNames = []string{ProviderAWS, ProviderDryRun, ProviderNFTables, ProviderOPNsense, ProviderWebhook}

// errUnknownSystem is returned (wrapped, and Permanent) when a --system argument is neither a
// system in the inventory nor an IP address or CIDR.
var errUnknownSystem = errors.New("unknown system")

// Inventory is the systems inventory: what can be isolated, and how.
//
// Example:
//
//	defaults:
//	  provider: nftables
//	  allow: [192.0.2.10]          # forensics host, kept reachable from every isolated system
//	providers:
//	  nftables: {netns: /run/netns/edge}
//	  aws: {region: eu-central-1, quarantine_group: breach-quarantine}
//	  opnsense: {url: https://fw.example.com, alias: breach_quarantine}
//	  webhook: {url: https://automation.example.com/breach}
//	systems:
//	  - name: db-1
//	    addresses: [10.0.1.5, 10.0.2.0/24]
//	  - name: api-1
//	    provider: aws
//	    instance_id: i-0123456789abcdef0
type Inventory struct {
	Defaults  Defaults
	Providers ProviderSettings

	systems map[string]System
	names   []string
}

// Defaults apply to every system, and to ad-hoc targets given as a bare address.
type Defaults struct {
	// Provider isolates systems that name none; empty means dry-run.
	Provider string `yaml:"provider" json:"provider,omitempty"`
	// Allow is kept reachable from every isolated system, in addition to the system's own list.
	Allow []string `yaml:"allow" json:"allow,omitempty"`
}

// ProviderSettings holds each provider's settings. Secrets are never in the file: only the
// names of the environment variables that hold them.
type ProviderSettings struct {
	DryRun   DryRunSettings   `yaml:"dry-run" json:"dry_run"`
	NFTables NFTablesSettings `yaml:"nftables" json:"nftables"`
	AWS      AWSSettings      `yaml:"aws" json:"aws"`
	OPNsense OPNsenseSettings `yaml:"opnsense" json:"opnsense"`
	Webhook  WebhookSettings  `yaml:"webhook" json:"webhook"`
}

// DryRunSettings configures the dry-run provider.
type DryRunSettings struct {
	// Path is the JSON-lines file dry-run records go to; empty means the caller's default.
	Path string `yaml:"path" json:"path,omitempty"`
}

// NFTablesSettings configures the nftables provider.
type NFTablesSettings struct {
	// NetNS is the path of the network namespace to apply rules in (e.g. /run/netns/edge);
	// empty means the namespace of the worker process.
	NetNS string `yaml:"netns" json:"netns,omitempty"`
	// Hooks are the netfilter hooks to filter on: input, forward, output. Empty means all
	// three, which isolates a system both when this host routes its traffic and when this host
	// is the system itself.
	Hooks []string `yaml:"hooks" json:"hooks,omitempty"`
}

// AWSSettings configures the AWS security-group quarantine provider.
type AWSSettings struct {
	Region string `yaml:"region" json:"region,omitempty"`
	// Endpoint overrides the EC2 endpoint (VPC endpoint, or a local test server): https, or
	// http to a loopback address.
	Endpoint string `yaml:"endpoint" json:"endpoint,omitempty"`
	// QuarantineGroup is the id (sg-...) or the name of the quarantine security group. A name
	// that does not exist yet is created, with no rules, in the instance's VPC.
	QuarantineGroup string `yaml:"quarantine_group" json:"quarantine_group,omitempty"`
	// VPC, when set, must be the VPC of every isolated instance.
	VPC string `yaml:"vpc" json:"vpc,omitempty"`
}

// OPNsenseSettings configures the OPNsense alias provider.
type OPNsenseSettings struct {
	// URL is the base URL of the firewall, e.g. https://fw.example.com: https, for the API key
	// and secret travel in every request (http is accepted for loopback addresses only).
	URL string `yaml:"url" json:"url,omitempty"`
	// Alias is the quarantine alias that the firewall's block rules reference; a system's own
	// alias overrides it.
	Alias string `yaml:"alias" json:"alias,omitempty"`
	// KeyEnv and SecretEnv name the environment variables holding the API key and secret;
	// empty means OPNSENSE_KEY and OPNSENSE_SECRET.
	KeyEnv    string `yaml:"key_env" json:"key_env,omitempty"`
	SecretEnv string `yaml:"secret_env" json:"secret_env,omitempty"`
	// CAFile is a PEM file of CAs to trust besides the system's (self-signed firewall UI).
	CAFile string `yaml:"ca_file" json:"ca_file,omitempty"`
}

// WebhookSettings configures the signed webhook provider.
type WebhookSettings struct {
	// URL is where requests are posted: https (http is accepted for loopback addresses only).
	// A token in its query is shown redacted in evidence and errors.
	URL string `yaml:"url" json:"url,omitempty"`
	// SecretEnv names the environment variable holding the HMAC secret; empty means
	// BREACH_WEBHOOK_SECRET.
	SecretEnv string `yaml:"secret_env" json:"secret_env,omitempty"`
}

// System is one entry of the inventory.
type System struct {
	Name        string `yaml:"name" json:"name"`
	Description string `yaml:"description" json:"description,omitempty"`
	// Provider isolates this system; empty means the inventory default.
	Provider   string   `yaml:"provider" json:"provider"`
	Addresses  []string `yaml:"addresses" json:"addresses,omitempty"`
	InstanceID string   `yaml:"instance_id" json:"instance_id,omitempty"`
	Alias      string   `yaml:"alias" json:"alias,omitempty"`
	// Allow is kept reachable while the system is isolated (with the inventory default list).
	Allow []string `yaml:"allow" json:"allow,omitempty"`
}

// LoadInventory reads and validates the inventory file at path.
func LoadInventory(path string) (*Inventory, error) {
	b, err := infile.ReadFile(path, infile.MaxConfigBytes)
	if err != nil {
		return nil, Permanent(fmt.Errorf("read inventory: %w", err))
	}
	return parseInventory(path, b)
}

func (inv *Inventory) defaultProvider() string {
	if inv == nil || inv.Defaults.Provider == "" {
		return ProviderDryRun
	}
	return inv.Defaults.Provider
}

// lookup returns the system named name.
func (inv *Inventory) lookup(name string) (System, bool) {
	if inv == nil {
		return System{}, false
	}
	s, ok := inv.systems[name]
	return s, ok
}

// Names returns the system names, sorted.
func (inv *Inventory) Names() []string {
	if inv == nil {
		return nil
	}
	return slices.Clone(inv.names)
}

// Resolve turns a --system argument into a system: an inventory name, or a bare IP address or
// CIDR, which becomes an ad-hoc system isolated by the default provider with the default
// allowlist. Anything else is an error wrapping errUnknownSystem that lists the known names.
// A nil inventory knows no names; bare addresses still resolve (to dry-run).
func (inv *Inventory) Resolve(arg string) (System, error) {
	if s, ok := inv.lookup(arg); ok {
		return s, nil
	}
	if isAddress(arg) {
		if err := CheckAddress(arg); err != nil {
			return System{}, Permanent(fmt.Errorf("system %q: %w", arg, err))
		}
		p := inv.defaultProvider()
		if p == ProviderAWS {
			return System{}, Permanent(fmt.Errorf("system %q: the default provider aws isolates instances, not addresses; add the system to the inventory with its instance_id", arg))
		}
		return System{Name: CanonicalAddress(arg), Provider: p, Addresses: []string{CanonicalAddress(arg)}}, nil
	}
	known := "the inventory lists no systems"
	if names := inv.Names(); len(names) > 0 {
		known = "known systems: " + strings.Join(names, ", ")
	}
	return System{}, Permanent(fmt.Errorf("%w %q: not in the inventory and not an IP address or CIDR (%s)", errUnknownSystem, arg, known))
}

// Target resolves name (see Resolve) and returns what a provider needs to isolate it: its
// addresses, instance id, alias, and the allowlist (inventory defaults plus its own).
func (inv *Inventory) Target(name string) (Target, error) {
	s, err := inv.Resolve(name)
	if err != nil {
		return Target{}, err
	}
	return inv.targetOf(s), nil
}

// targetOf builds the provider target for s.
func (inv *Inventory) targetOf(s System) Target {
	t := Target{
		System:     s.Name,
		Addresses:  slices.Clone(s.Addresses),
		InstanceID: s.InstanceID,
		Alias:      s.Alias,
	}
	if inv != nil {
		if t.Alias == "" && s.Provider == ProviderOPNsense {
			t.Alias = inv.Providers.OPNsense.Alias
		}
		t.Allow = append(t.Allow, inv.Defaults.Allow...)
	}
	for _, a := range s.Allow {
		if !slices.Contains(t.Allow, a) {
			t.Allow = append(t.Allow, a)
		}
	}
	return t
}
