package firewall

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

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

// ProviderNames lists every provider an inventory may name.
var ProviderNames = []string{ProviderAWS, ProviderDryRun, ProviderNFTables, ProviderOPNsense, ProviderWebhook}

// Default environment variable names for provider secrets.
const (
	DefaultOPNsenseKeyEnv    = "OPNSENSE_KEY"
	DefaultOPNsenseSecretEnv = "OPNSENSE_SECRET"
	DefaultWebhookSecretEnv  = "BREACH_WEBHOOK_SECRET"
)

// ErrUnknownSystem is returned (wrapped, and Permanent) when a --system argument is neither a
// system in the inventory nor an IP address or CIDR. The CLI maps it to a usage error.
var ErrUnknownSystem = errors.New("unknown system")

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
	// Path is the file the inventory was loaded from; empty when parsed from bytes.
	Path      string
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
	// KeyEnv and SecretEnv name the environment variables holding the API key and secret.
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
	// SecretEnv names the environment variable holding the HMAC secret.
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
	// AdHoc is set for a target given as a bare address rather than an inventory name.
	AdHoc bool `yaml:"-" json:"ad_hoc,omitempty"`
}

type rawInventory struct {
	Defaults  Defaults         `yaml:"defaults"`
	Providers ProviderSettings `yaml:"providers"`
	Systems   []System         `yaml:"systems"`
}

// LoadInventory reads and validates the inventory file at path.
func LoadInventory(path string) (*Inventory, error) {
	b, err := infile.ReadFile(path, infile.MaxConfigBytes)
	if err != nil {
		return nil, Permanent(fmt.Errorf("read inventory: %w", err))
	}
	inv, err := parseInventory(path, b)
	if err != nil {
		return nil, err
	}
	inv.Path = path
	return inv, nil
}

// ParseInventory parses and validates an inventory. Errors are Permanent and name the line and
// the field at fault.
func ParseInventory(b []byte) (*Inventory, error) { return parseInventory("", b) }

func parseInventory(path string, b []byte) (*Inventory, error) {
	where := "inventory"
	if path != "" {
		where = "inventory " + path
	}
	fail := func(line int, field, format string, args ...any) error {
		msg := fmt.Sprintf(format, args...)
		if line > 0 {
			return Permanent(fmt.Errorf("%s: line %d: %s: %s", where, line, field, msg))
		}
		return Permanent(fmt.Errorf("%s: %s: %s", where, field, msg))
	}

	var raw rawInventory
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, Permanent(fmt.Errorf("%s: empty file; list the systems under \"systems:\"", where))
		}
		return nil, Permanent(fmt.Errorf("%s: %s", where, yamlErrorText(err)))
	}
	var more yaml.Node
	if err := dec.Decode(&more); err == nil {
		return nil, fail(more.Line, "document", "more than one YAML document; keep the inventory in one")
	}
	var root yaml.Node
	_ = yaml.Unmarshal(b, &root) // already decoded once: cannot fail
	line := func(path ...any) int { return nodeLine(&root, path...) }

	inv := &Inventory{Defaults: raw.Defaults, Providers: raw.Providers, systems: map[string]System{}}

	if p := raw.Defaults.Provider; p != "" && !slices.Contains(ProviderNames, p) {
		return nil, fail(line("defaults", "provider"), "defaults.provider", "unknown provider %q; use one of %s", p, strings.Join(ProviderNames, ", "))
	}
	for i, a := range raw.Defaults.Allow {
		if err := checkAllow(a); err != nil {
			return nil, fail(line("defaults", "allow", i), fmt.Sprintf("defaults.allow[%d]", i), "%v", err)
		}
		raw.Defaults.Allow[i] = canonicalAddress(a)
	}
	for i, h := range raw.Providers.NFTables.Hooks {
		if _, ok := hookByName[h]; !ok {
			return nil, fail(line("providers", "nftables", "hooks", i), fmt.Sprintf("providers.nftables.hooks[%d]", i), "unknown hook %q; use input, forward or output", h)
		}
	}

	chains := map[string]string{}
	used := map[string]bool{}
	for i, s := range raw.Systems {
		field := func(name string, idx ...int) string {
			f := fmt.Sprintf("systems[%d]", i)
			if s.Name != "" {
				f += fmt.Sprintf(" (%s)", s.Name)
			}
			if name != "" {
				f += "." + name
			}
			for _, j := range idx {
				f += fmt.Sprintf("[%d]", j)
			}
			return f
		}
		at := func(path ...any) int { return line(append([]any{"systems", i}, path...)...) }
		if s.Name == "" {
			return nil, fail(at(), field("name"), "missing; every system needs a name")
		}
		if !systemName.MatchString(s.Name) {
			return nil, fail(at("name"), field("name"), "%q: use letters, digits, '.', '_' and '-' (at most 63, starting with a letter or digit)", s.Name)
		}
		if isAddress(s.Name) {
			return nil, fail(at("name"), field("name"), "%q looks like an address; name the system and list the address under addresses", s.Name)
		}
		if _, dup := inv.systems[s.Name]; dup {
			return nil, fail(at("name"), field("name"), "duplicate system name %q", s.Name)
		}
		if other, ok := chains[chainName(s.Name)]; ok {
			return nil, fail(at("name"), field("name"), "%q and %q map to the same firewall chain %s; rename one", other, s.Name, chainName(s.Name))
		}
		chains[chainName(s.Name)] = s.Name
		if s.Provider == "" {
			s.Provider = inv.defaultProvider()
		} else if !slices.Contains(ProviderNames, s.Provider) {
			return nil, fail(at("provider"), field("provider"), "unknown provider %q; use one of %s", s.Provider, strings.Join(ProviderNames, ", "))
		}
		// Kept canonical: IPv4-mapped addresses as the IPv4 they are, for every provider.
		for j, a := range s.Addresses {
			if err := checkAddress(a); err != nil {
				return nil, fail(at("addresses", j), field("addresses", j), "%v", err)
			}
			s.Addresses[j] = canonicalAddress(a)
		}
		for j, a := range s.Allow {
			if err := checkAllow(a); err != nil {
				return nil, fail(at("allow", j), field("allow", j), "%v", err)
			}
			s.Allow[j] = canonicalAddress(a)
		}
		switch s.Provider {
		case ProviderDryRun, ProviderNFTables, ProviderOPNsense:
			if len(s.Addresses) == 0 {
				return nil, fail(at(), field("addresses"), "missing; the %s provider isolates IP addresses or CIDRs", s.Provider)
			}
		case ProviderAWS:
			if s.InstanceID == "" {
				return nil, fail(at(), field("instance_id"), "missing; the aws provider isolates an EC2 instance (i-...)")
			}
		case ProviderWebhook:
			if len(s.Addresses) == 0 && s.InstanceID == "" {
				return nil, fail(at(), field("addresses"), "missing; the webhook provider needs addresses or an instance_id to send")
			}
		}
		if s.InstanceID != "" && !instanceID.MatchString(s.InstanceID) {
			return nil, fail(at("instance_id"), field("instance_id"), "%q is not an EC2 instance id (i- followed by 8 or 17 hex digits)", s.InstanceID)
		}
		if s.Alias != "" && !aliasName.MatchString(s.Alias) {
			return nil, fail(at("alias"), field("alias"), "%q: an alias name is letters, digits and '_', at most 32", s.Alias)
		}
		if s.Provider == ProviderOPNsense && s.Alias == "" && raw.Providers.OPNsense.Alias == "" {
			return nil, fail(at(), field("alias"), "missing; set it here or as providers.opnsense.alias")
		}
		used[s.Provider] = true
		inv.systems[s.Name] = s
		inv.names = append(inv.names, s.Name)
	}
	used[inv.defaultProvider()] = true
	slices.Sort(inv.names)

	p := raw.Providers
	if used[ProviderAWS] {
		if p.AWS.Region == "" {
			return nil, fail(line("providers", "aws"), "providers.aws.region", "missing; the aws provider needs a region")
		}
		if p.AWS.QuarantineGroup == "" {
			return nil, fail(line("providers", "aws"), "providers.aws.quarantine_group", "missing; name the quarantine security group (sg-... or a group name)")
		}
	}
	if err := checkURL(p.AWS.Endpoint, true); err != nil {
		return nil, fail(line("providers", "aws", "endpoint"), "providers.aws.endpoint", "%v", err)
	}
	if p.AWS.VPC != "" && !strings.HasPrefix(p.AWS.VPC, "vpc-") {
		return nil, fail(line("providers", "aws", "vpc"), "providers.aws.vpc", "%q is not a VPC id (vpc-...)", p.AWS.VPC)
	}
	if used[ProviderOPNsense] && p.OPNsense.URL == "" {
		return nil, fail(line("providers", "opnsense"), "providers.opnsense.url", "missing; the opnsense provider needs the firewall's base URL")
	}
	if err := checkURL(p.OPNsense.URL, true); err != nil {
		return nil, fail(line("providers", "opnsense", "url"), "providers.opnsense.url", "%v", err)
	}
	if a := p.OPNsense.Alias; a != "" && !aliasName.MatchString(a) {
		return nil, fail(line("providers", "opnsense", "alias"), "providers.opnsense.alias", "%q: an alias name is letters, digits and '_', at most 32", a)
	}
	if used[ProviderWebhook] && p.Webhook.URL == "" {
		return nil, fail(line("providers", "webhook"), "providers.webhook.url", "missing; the webhook provider needs the URL to post to")
	}
	if err := checkURL(p.Webhook.URL, true); err != nil {
		return nil, fail(line("providers", "webhook", "url"), "providers.webhook.url", "%v", err)
	}
	for _, e := range []struct{ field, v string }{
		{"opnsense.key_env", p.OPNsense.KeyEnv}, {"opnsense.secret_env", p.OPNsense.SecretEnv}, {"webhook.secret_env", p.Webhook.SecretEnv},
	} {
		if e.v != "" && !envName.MatchString(e.v) {
			parts := strings.SplitN(e.field, ".", 2)
			// The value is not repeated: what is here instead of a name is often the secret.
			return nil, fail(line("providers", parts[0], parts[1]), "providers."+e.field,
				"not an environment variable name (letters, digits and _); secrets stay out of the inventory, name the variable that holds them")
		}
	}
	return inv, nil
}

var (
	systemName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)
	instanceID = regexp.MustCompile(`^i-([0-9a-f]{8}|[0-9a-f]{17})$`)
	aliasName  = regexp.MustCompile(`^[A-Za-z0-9_]{1,32}$`)
	envName    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

func (inv *Inventory) defaultProvider() string {
	if inv == nil || inv.Defaults.Provider == "" {
		return ProviderDryRun
	}
	return inv.Defaults.Provider
}

// Lookup returns the system named name.
func (inv *Inventory) Lookup(name string) (System, bool) {
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
// allowlist. Anything else is an error wrapping ErrUnknownSystem that lists the known names.
// A nil inventory knows no names; bare addresses still resolve (to dry-run).
func (inv *Inventory) Resolve(arg string) (System, error) {
	if s, ok := inv.Lookup(arg); ok {
		return s, nil
	}
	if isAddress(arg) {
		if err := checkAddress(arg); err != nil {
			return System{}, Permanent(fmt.Errorf("system %q: %w", arg, err))
		}
		p := inv.defaultProvider()
		if p == ProviderAWS {
			return System{}, Permanent(fmt.Errorf("system %q: the default provider aws isolates instances, not addresses; add the system to the inventory with its instance_id", arg))
		}
		return System{Name: canonicalAddress(arg), Provider: p, Addresses: []string{canonicalAddress(arg)}, AdHoc: true}, nil
	}
	known := "the inventory lists no systems"
	if names := inv.Names(); len(names) > 0 {
		known = "known systems: " + strings.Join(names, ", ")
	}
	return System{}, Permanent(fmt.Errorf("%w %q: not in the inventory and not an IP address or CIDR (%s)", ErrUnknownSystem, arg, known))
}

// Target resolves name (see Resolve) and returns what a provider needs to isolate it: its
// addresses, instance id, alias, and the allowlist (inventory defaults plus its own).
func (inv *Inventory) Target(name string) (Target, error) {
	s, err := inv.Resolve(name)
	if err != nil {
		return Target{}, err
	}
	return inv.TargetOf(s), nil
}

// TargetOf builds the provider target for s.
func (inv *Inventory) TargetOf(s System) Target {
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

func isAddress(s string) bool {
	if _, err := netip.ParseAddr(s); err == nil {
		return true
	}
	_, err := netip.ParsePrefix(s)
	return err == nil
}

// checkAddress accepts an IP address or a CIDR whose host bits are zero, other than /0. An
// IPv4-mapped IPv6 address or prefix (::ffff:10.0.0.5, ::ffff:10.0.0.0/104) is the IPv4 one
// it maps: its traffic is IPv4 on the wire. An IPv6 prefix wider than the mapped range
// (::/64) is refused: its IPv4-mapped part would look isolated and pass.
func checkAddress(s string) error {
	if a, err := netip.ParseAddr(s); err == nil {
		if a.Zone() != "" {
			return fmt.Errorf("%q: drop the zone; use a plain address", s)
		}
		return nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return fmt.Errorf("%q is not an IP address or CIDR", s)
	}
	if p.Bits() == 0 {
		return fmt.Errorf("%q covers every address; isolating it would cut off the whole network", s)
	}
	if p, err = unmapPrefix(s, p); err != nil {
		return err
	}
	if p.Bits() == 0 {
		return fmt.Errorf("%q covers every IPv4 address; isolating it would cut off the whole network", s)
	}
	if p.Masked() != p {
		return fmt.Errorf("%q has host bits set; did you mean %s?", s, p.Masked())
	}
	return nil
}

// mappedRange is where IPv4-mapped IPv6 addresses live.
var mappedRange = netip.MustParsePrefix("::ffff:0.0.0.0/96")

// unmapPrefix turns an IPv4-mapped prefix into the IPv4 prefix it maps, and refuses an IPv6
// prefix that holds the mapped range, or a mapped address with a prefix shorter than /96.
func unmapPrefix(s string, p netip.Prefix) (netip.Prefix, error) {
	switch {
	case p.Addr().Is4In6() && p.Bits() >= 96:
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96), nil
	case p.Addr().Is6() && p.Bits() <= 96 && p.Overlaps(mappedRange):
		return netip.Prefix{}, fmt.Errorf("%q holds the IPv4-mapped range %s, whose traffic is IPv4 and would pass an IPv6 rule; list IPv4 addresses as IPv4, and IPv6 ranges that leave it out", s, mappedRange)
	}
	return p, nil
}

func checkAllow(s string) error {
	if p, err := netip.ParsePrefix(s); err == nil && (p.Bits() == 0 || p.Addr().Is4In6() && p.Bits() == 96) {
		return fmt.Errorf("%q allows every address, which would undo the isolation", s)
	}
	return checkAddress(s)
}

// canonicalAddress prints a single-host prefix as a plain address, an IPv4-mapped one as IPv4.
func canonicalAddress(s string) string {
	p, err := parsePrefix(s)
	if err != nil {
		return s
	}
	if p.IsSingleIP() {
		return p.Addr().String()
	}
	return p.String()
}

// parsePrefix reads an address or CIDR as a prefix, IPv4-mapped ones as IPv4 (see checkAddress).
func parsePrefix(s string) (netip.Prefix, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR", s)
	}
	if p, err = unmapPrefix(s, p); err != nil {
		return netip.Prefix{}, err
	}
	return p.Masked(), nil
}

// checkURL accepts an https URL, or an http one to a loopback address (see requireTLS).
func checkURL(s string, allowEmpty bool) error {
	if s == "" {
		if allowEmpty {
			return nil
		}
		return errors.New("missing")
	}
	return requireTLS(s)
}

// nodeLine returns the line of the node at path (mapping keys as strings, sequence indexes as
// ints), or of the deepest node on the path that exists.
func nodeLine(root *yaml.Node, path ...any) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for _, p := range path {
		var next *yaml.Node
		switch k := p.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == k {
						next = n.Content[i+1]
						break
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && k < len(n.Content) {
				next = n.Content[k]
			}
		}
		if next == nil {
			break
		}
		n = next
	}
	return n.Line
}

var yamlTypeNames = strings.NewReplacer(
	"not found in type firewall.rawInventory", "is not a top-level section (use defaults, providers, systems)",
	"not found in type firewall.System", "is not a system field (use name, description, provider, addresses, instance_id, alias, allow)",
	"not found in type firewall.Defaults", "is not a field of defaults (use provider, allow)",
	"not found in type firewall.ProviderSettings", "is not a provider (use dry-run, nftables, aws, opnsense, webhook)",
	"not found in type firewall.DryRunSettings", "is not a field of providers.dry-run",
	"not found in type firewall.NFTablesSettings", "is not a field of providers.nftables",
	"not found in type firewall.AWSSettings", "is not a field of providers.aws",
	"not found in type firewall.OPNsenseSettings", "is not a field of providers.opnsense",
	"not found in type firewall.WebhookSettings", "is not a field of providers.webhook",
	"firewall.rawInventory", "the inventory",
	"firewall.System", "a system",
	"yaml: unmarshal errors:\n  ", "",
	"\n  ", "; ",
)

func yamlErrorText(err error) string { return yamlTypeNames.Replace(err.Error()) }
