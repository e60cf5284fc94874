package aws

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/breachops/breach/internal/firewall"
)

// fakeEC2 speaks the EC2 Query API (form-encoded Action=..., XML answers) for exactly the
// actions the provider uses, and fails the test on any parameter it does not expect.
type fakeEC2 struct {
	t *testing.T

	mu        sync.Mutex
	instances map[string]fakeInstance
	enis      map[string]*fakeENI
	groups    map[string]*fakeSG
	calls     []string
	inject    map[string][]fault // per action, answered in order before behaving
	seq       int
}

type fakeInstance struct {
	vpc  string
	enis []string
}

type fakeENI struct {
	vpc    string
	groups []string
	tags   map[string]string
}

type fakeSG struct {
	name, vpc       string
	ingress, egress []string // "proto cidr"
}

type fault struct {
	status int
	code   string
}

func newFakeEC2(t *testing.T) (*fakeEC2, *httptest.Server) {
	f := &fakeEC2{t: t,
		instances: map[string]fakeInstance{"i-0123456789abcdef0": {vpc: "vpc-1", enis: []string{"eni-b", "eni-a"}}},
		enis: map[string]*fakeENI{
			"eni-a": {vpc: "vpc-1", groups: []string{"sg-web", "sg-ssh"}, tags: map[string]string{"Name": "db primary"}},
			"eni-b": {vpc: "vpc-1", groups: []string{"sg-web"}, tags: map[string]string{}},
		},
		groups: map[string]*fakeSG{
			"sg-web": {name: "web", vpc: "vpc-1", ingress: []string{"tcp 0.0.0.0/0"}, egress: []string{"-1 0.0.0.0/0"}},
			"sg-ssh": {name: "ssh", vpc: "vpc-1", ingress: []string{"tcp 10.0.0.0/8"}},
		},
		inject: map[string][]fault{},
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeEC2) count(action string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c == action {
			n++
		}
	}
	return n
}

func (f *fakeEC2) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		f.t.Errorf("EC2 request %s with Content-Type %q; want a form POST", r.Method, r.Header.Get("Content-Type"))
	}
	if auth := r.Header.Get("Authorization"); !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDTEST/") || !strings.Contains(auth, "/eu-central-1/ec2/aws4_request") {
		f.fail(w, 401, "AuthFailure", "request not signed for ec2 in eu-central-1: "+auth)
		return
	}
	if err := r.ParseForm(); err != nil {
		f.fail(w, 400, "MalformedQueryString", err.Error())
		return
	}
	form := r.PostForm
	action := form.Get("Action")
	f.calls = append(f.calls, action)
	if form.Get("Version") != "2016-11-15" {
		f.t.Errorf("%s: Version %q", action, form.Get("Version"))
	}
	if q := f.inject[action]; len(q) > 0 {
		f.inject[action] = q[1:]
		f.fail(w, q[0].status, q[0].code, "injected")
		return
	}
	allowed := map[string][]string{
		"DescribeInstances":               {"InstanceId.1"},
		"DescribeNetworkInterfaces":       {"NetworkInterfaceId."},
		"DescribeSecurityGroups":          {"GroupId.1", "Filter."},
		"CreateSecurityGroup":             {"GroupName", "GroupDescription", "VpcId", "TagSpecification.1."},
		"RevokeSecurityGroupEgress":       {"GroupId", "IpPermissions."},
		"CreateTags":                      {"ResourceId.1", "Tag."},
		"DeleteTags":                      {"ResourceId.1", "Tag."},
		"ModifyNetworkInterfaceAttribute": {"NetworkInterfaceId", "SecurityGroupId."},
	}[action]
	if allowed == nil {
		f.t.Errorf("unexpected EC2 action %q", action)
		f.fail(w, 400, "InvalidAction", action)
		return
	}
	for k := range form {
		if k == "Action" || k == "Version" {
			continue
		}
		if !slices.ContainsFunc(allowed, func(p string) bool { return k == p || (strings.HasSuffix(p, ".") && strings.HasPrefix(k, p)) }) {
			f.t.Errorf("%s: unexpected parameter %s=%q", action, k, form.Get(k))
		}
	}
	var body string
	switch action {
	case "DescribeInstances":
		id := form.Get("InstanceId.1")
		inst, ok := f.instances[id]
		if !ok {
			f.fail(w, 400, "InvalidInstanceID.NotFound", fmt.Sprintf("The instance ID '%s' does not exist", id))
			return
		}
		var enis strings.Builder
		for _, e := range inst.enis {
			fmt.Fprintf(&enis, "<item><networkInterfaceId>%s</networkInterfaceId><vpcId>%s</vpcId><groupSet>%s</groupSet></item>", e, inst.vpc, groupSet(f.enis[e].groups))
		}
		body = fmt.Sprintf("<reservationSet><item><reservationId>r-1</reservationId><instancesSet><item><instanceId>%s</instanceId><vpcId>%s</vpcId><instanceState><code>16</code><name>running</name></instanceState><networkInterfaceSet>%s</networkInterfaceSet></item></instancesSet></item></reservationSet>",
			id, inst.vpc, enis.String())
	case "DescribeNetworkInterfaces":
		var items strings.Builder
		for i := 1; form.Has(fmt.Sprintf("NetworkInterfaceId.%d", i)); i++ {
			id := form.Get(fmt.Sprintf("NetworkInterfaceId.%d", i))
			e, ok := f.enis[id]
			if !ok {
				f.fail(w, 400, "InvalidNetworkInterfaceID.NotFound", id)
				return
			}
			var tags strings.Builder
			for _, k := range sortedKeys(e.tags) {
				fmt.Fprintf(&tags, "<item><key>%s</key><value>%s</value></item>", k, e.tags[k])
			}
			fmt.Fprintf(&items, "<item><networkInterfaceId>%s</networkInterfaceId><vpcId>%s</vpcId><groupSet>%s</groupSet><tagSet>%s</tagSet></item>", id, e.vpc, groupSet(e.groups), tags.String())
		}
		body = "<networkInterfaceSet>" + items.String() + "</networkInterfaceSet>"
	case "DescribeSecurityGroups":
		var match []string
		if id := form.Get("GroupId.1"); id != "" {
			if _, ok := f.groups[id]; !ok {
				f.fail(w, 400, "InvalidGroup.NotFound", fmt.Sprintf("The security group '%s' does not exist", id))
				return
			}
			match = []string{id}
		} else {
			filters := map[string]string{}
			for i := 1; form.Has(fmt.Sprintf("Filter.%d.Name", i)); i++ {
				filters[form.Get(fmt.Sprintf("Filter.%d.Name", i))] = form.Get(fmt.Sprintf("Filter.%d.Value.1", i))
			}
			if filters["group-name"] == "" || filters["vpc-id"] == "" {
				f.t.Errorf("DescribeSecurityGroups by name without group-name and vpc-id filters: %v", filters)
			}
			for _, id := range sortedKeys(f.groups) {
				if g := f.groups[id]; g.name == filters["group-name"] && g.vpc == filters["vpc-id"] {
					match = append(match, id)
				}
			}
		}
		var items strings.Builder
		for _, id := range match {
			g := f.groups[id]
			fmt.Fprintf(&items, "<item><groupId>%s</groupId><groupName>%s</groupName><vpcId>%s</vpcId><ipPermissions>%s</ipPermissions><ipPermissionsEgress>%s</ipPermissionsEgress></item>",
				id, g.name, g.vpc, permissions(g.ingress), permissions(g.egress))
		}
		body = "<securityGroupInfo>" + items.String() + "</securityGroupInfo>"
	case "CreateSecurityGroup":
		name, vpc := form.Get("GroupName"), form.Get("VpcId")
		if name == "" || vpc == "" || form.Get("GroupDescription") == "" {
			f.fail(w, 400, "MissingParameter", "GroupName, GroupDescription and VpcId are required")
			return
		}
		if form.Get("TagSpecification.1.ResourceType") != "security-group" {
			f.t.Errorf("CreateSecurityGroup tag specification for %q", form.Get("TagSpecification.1.ResourceType"))
		}
		for _, g := range f.groups {
			if g.name == name && g.vpc == vpc {
				f.fail(w, 400, "InvalidGroup.Duplicate", "The security group '"+name+"' already exists for VPC '"+vpc+"'")
				return
			}
		}
		f.seq++
		id := fmt.Sprintf("sg-q%03d", f.seq)
		f.groups[id] = &fakeSG{name: name, vpc: vpc, egress: []string{"-1 0.0.0.0/0"}}
		body = "<return>true</return><groupId>" + id + "</groupId>"
	case "RevokeSecurityGroupEgress":
		g, ok := f.groups[form.Get("GroupId")]
		if !ok {
			f.fail(w, 400, "InvalidGroup.NotFound", form.Get("GroupId"))
			return
		}
		for i := 1; form.Has(fmt.Sprintf("IpPermissions.%d.IpProtocol", i)); i++ {
			rule := form.Get(fmt.Sprintf("IpPermissions.%d.IpProtocol", i)) + " " + form.Get(fmt.Sprintf("IpPermissions.%d.IpRanges.1.CidrIp", i))
			if !slices.Contains(g.egress, rule) {
				f.fail(w, 400, "InvalidPermission.NotFound", rule)
				return
			}
			g.egress = slices.DeleteFunc(g.egress, func(e string) bool { return e == rule })
		}
		body = "<return>true</return>"
	case "CreateTags", "DeleteTags":
		e, ok := f.enis[form.Get("ResourceId.1")]
		if !ok {
			f.fail(w, 400, "InvalidNetworkInterfaceID.NotFound", form.Get("ResourceId.1"))
			return
		}
		for i := 1; form.Has(fmt.Sprintf("Tag.%d.Key", i)); i++ {
			k := form.Get(fmt.Sprintf("Tag.%d.Key", i))
			if action == "CreateTags" {
				if v := form.Get(fmt.Sprintf("Tag.%d.Value", i)); len(v) > 256 {
					f.fail(w, 400, "InvalidParameterValue", "tag value longer than 256")
					return
				}
				e.tags[k] = form.Get(fmt.Sprintf("Tag.%d.Value", i))
			} else {
				delete(e.tags, k)
			}
		}
		body = "<return>true</return>"
	case "ModifyNetworkInterfaceAttribute":
		e, ok := f.enis[form.Get("NetworkInterfaceId")]
		if !ok {
			f.fail(w, 400, "InvalidNetworkInterfaceID.NotFound", form.Get("NetworkInterfaceId"))
			return
		}
		var groups []string
		for i := 1; form.Has(fmt.Sprintf("SecurityGroupId.%d", i)); i++ {
			id := form.Get(fmt.Sprintf("SecurityGroupId.%d", i))
			if g, ok := f.groups[id]; !ok || g.vpc != e.vpc {
				f.fail(w, 400, "InvalidGroup.NotFound", id)
				return
			}
			groups = append(groups, id)
		}
		if len(groups) == 0 {
			f.fail(w, 400, "MissingParameter", "SecurityGroupId")
			return
		}
		e.groups = groups
		body = "<return>true</return>"
	}
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><%sResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>req-%d</requestId>%s</%sResponse>`, action, len(f.calls), body, action)
}

func (f *fakeEC2) fail(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>req-err</RequestID></Response>`, code, xmlEscape(msg))
}

func groupSet(ids []string) string {
	var b strings.Builder
	for _, id := range ids {
		fmt.Fprintf(&b, "<item><groupId>%s</groupId><groupName>%s</groupName></item>", id, id)
	}
	return b.String()
}

func permissions(rules []string) string {
	var b strings.Builder
	for _, r := range rules {
		proto, cidr, _ := strings.Cut(r, " ")
		fmt.Fprintf(&b, "<item><ipProtocol>%s</ipProtocol><ipRanges><item><cidrIp>%s</cidrIp></item></ipRanges></item>", proto, cidr)
	}
	return b.String()
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "'", "&apos;").Replace(s)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// testEC2Options sign with fixed test credentials and retry quickly, as the SDK's standard
// retryer does in production but without its backoff delays.
func testEC2Options(o *ec2.Options) {
	o.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: "secret", Source: "test"}, nil
	})
	o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = 3
		so.RateLimiter = ratelimit.None
		so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
	})
}

func newTestAWS(t *testing.T, srv *httptest.Server, group string) *provider {
	t.Helper()
	// Keep the machine's own AWS configuration out of the test.
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent/breach-test")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/breach-test")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_PROFILE", "")
	p, err := newProvider(context.Background(), firewall.AWSSettings{Region: "eu-central-1", Endpoint: srv.URL, QuarantineGroup: group}, testEC2Options)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var awsTarget = firewall.Target{System: "db-1", InstanceID: "i-0123456789abcdef0"}

func TestAWSIsolateVerifyRelease(t *testing.T) {
	f, srv := newFakeEC2(t)
	p := newTestAWS(t, srv, "breach-quarantine")
	ctx := context.Background()

	ev, err := p.Isolate(ctx, awsTarget)
	if err != nil {
		t.Fatalf("isolate: %v", err)
	}
	t.Logf("isolate evidence: %+v", ev)
	q := ev.Identifiers["quarantine_group"]
	g := f.groups[q]
	if g == nil || g.name != "breach-quarantine" || g.vpc != "vpc-1" {
		t.Fatalf("quarantine group %q: %+v; want breach-quarantine created in vpc-1", q, g)
	}
	if len(g.ingress)+len(g.egress) != 0 {
		t.Errorf("quarantine group has rules %v %v; want none (default egress revoked)", g.ingress, g.egress)
	}
	for _, id := range []string{"eni-a", "eni-b"} {
		if !slices.Equal(f.enis[id].groups, []string{q}) {
			t.Errorf("%s on %v, want only %s", id, f.enis[id].groups, q)
		}
	}
	if got := f.enis["eni-a"].tags[originalGroupsTag]; got != "sg-web,sg-ssh" {
		t.Errorf("eni-a tag %s = %q, want sg-web,sg-ssh", originalGroupsTag, got)
	}
	if ev.Identifiers["eni-a.original_groups"] != "sg-web,sg-ssh" || ev.Identifiers["eni-b.original_groups"] != "sg-web" {
		t.Errorf("evidence does not record the original groups: %v", ev.Identifiers)
	}

	if v, err := p.Verify(ctx, awsTarget); err != nil || !v.InForce {
		t.Fatalf("verify: in force %v, err %v (%s)", v.InForce, err, v.After)
	}

	modifies, creates := f.count("ModifyNetworkInterfaceAttribute"), f.count("CreateSecurityGroup")
	again, err := p.Isolate(ctx, awsTarget)
	if err != nil {
		t.Fatalf("isolate again: %v", err)
	}
	if f.count("ModifyNetworkInterfaceAttribute") != modifies || f.count("CreateSecurityGroup") != creates || len(again.Changes) != 0 {
		t.Errorf("isolating again changed something: %v", again.Changes)
	}
	if again.Identifiers["eni-a.original_groups"] != "sg-web,sg-ssh" {
		t.Errorf("second isolation lost the original groups: %v", again.Identifiers)
	}

	rel, err := p.Release(ctx, awsTarget)
	if err != nil {
		t.Fatalf("release: %v", err)
	}
	t.Logf("release evidence: %+v", rel)
	if !slices.Equal(f.enis["eni-a"].groups, []string{"sg-web", "sg-ssh"}) || !slices.Equal(f.enis["eni-b"].groups, []string{"sg-web"}) {
		t.Errorf("groups after release: eni-a %v, eni-b %v; want the originals", f.enis["eni-a"].groups, f.enis["eni-b"].groups)
	}
	if _, ok := f.enis["eni-a"].tags[originalGroupsTag]; ok || f.enis["eni-a"].tags["Name"] != "db primary" {
		t.Errorf("eni-a tags after release: %v; want ours removed, others kept", f.enis["eni-a"].tags)
	}
	if v, err := p.Verify(ctx, awsTarget); err != nil || v.InForce {
		t.Errorf("verify after release: in force %v, err %v", v.InForce, err)
	}
	if ev, err := p.Release(ctx, awsTarget); err != nil || len(ev.Changes) != 0 {
		t.Errorf("second release: changes %v, err %v; want none", ev.Changes, err)
	}

	// The group now exists: a new isolation reuses it.
	if ev, err := p.Isolate(ctx, awsTarget); err != nil || ev.Identifiers["quarantine_group"] != q {
		t.Errorf("re-isolate: group %q, err %v; want the existing %s", ev.Identifiers["quarantine_group"], err, q)
	}
	if n := f.count("CreateSecurityGroup"); n != 1 {
		t.Errorf("%d CreateSecurityGroup calls, want 1", n)
	}
}

func TestAWSThrottlingIsRetried(t *testing.T) {
	f, srv := newFakeEC2(t)
	p := newTestAWS(t, srv, "breach-quarantine")
	f.inject["DescribeInstances"] = []fault{{503, "RequestLimitExceeded"}, {503, "Unavailable"}}
	f.inject["ModifyNetworkInterfaceAttribute"] = []fault{{503, "RequestLimitExceeded"}}
	if _, err := p.Isolate(context.Background(), awsTarget); err != nil {
		t.Fatalf("isolate with throttling: %v; want the SDK to retry", err)
	}
	if n := f.count("DescribeInstances"); n != 3 {
		t.Errorf("DescribeInstances called %d times, want 3 (two throttled)", n)
	}

	// Throttled past the SDK's attempts: retryable, for Temporal to try later.
	f.inject["DescribeInstances"] = []fault{{503, "RequestLimitExceeded"}, {503, "RequestLimitExceeded"}, {503, "RequestLimitExceeded"}}
	_, err := p.Verify(context.Background(), awsTarget)
	if err == nil || errors.Is(err, firewall.ErrPermanent) {
		t.Fatalf("verify throttled past retries: %v; want a retryable error", err)
	}
}

func TestAWSPermanentErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		setup func(f *fakeEC2) (firewall.Target, string)
	}{
		{"unknown instance", func(f *fakeEC2) (firewall.Target, string) {
			return firewall.Target{System: "ghost", InstanceID: "i-0fffffffffffffff0"}, "breach-quarantine"
		}},
		{"auth failure", func(f *fakeEC2) (firewall.Target, string) {
			f.inject["DescribeInstances"] = []fault{{401, "AuthFailure"}}
			return awsTarget, "breach-quarantine"
		}},
		{"unauthorized operation", func(f *fakeEC2) (firewall.Target, string) {
			f.inject["ModifyNetworkInterfaceAttribute"] = []fault{{403, "UnauthorizedOperation"}}
			return awsTarget, "breach-quarantine"
		}},
		{"unknown group id", func(f *fakeEC2) (firewall.Target, string) { return awsTarget, "sg-0000000000" }},
		{"group in another vpc", func(f *fakeEC2) (firewall.Target, string) {
			f.groups["sg-elsewhere"] = &fakeSG{name: "q", vpc: "vpc-2"}
			return awsTarget, "sg-elsewhere"
		}},
		{"no instance id", func(f *fakeEC2) (firewall.Target, string) { return firewall.Target{System: "x"}, "breach-quarantine" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, srv := newFakeEC2(t)
			tg, group := tc.setup(f)
			p := newTestAWS(t, srv, group)
			_, err := p.Isolate(ctx, tg)
			if !errors.Is(err, firewall.ErrPermanent) {
				t.Fatalf("isolate: %v; want a permanent error", err)
			}
			t.Log(err)
		})
	}
}

func TestAWSVerifyNoticesRules(t *testing.T) {
	f, srv := newFakeEC2(t)
	f.groups["sg-quarantine"] = &fakeSG{name: "breach-quarantine", vpc: "vpc-1"}
	p := newTestAWS(t, srv, "sg-quarantine")
	ctx := context.Background()
	if _, err := p.Isolate(ctx, awsTarget); err != nil {
		t.Fatal(err)
	}
	if n := f.count("CreateSecurityGroup"); n != 0 {
		t.Errorf("created %d groups; an existing group id must be used as is", n)
	}
	if v, err := p.Verify(ctx, awsTarget); err != nil || !v.InForce {
		t.Fatalf("verify: %v %v (%s)", v.InForce, err, v.After)
	}
	f.groups["sg-quarantine"].ingress = []string{"tcp 0.0.0.0/0"}
	if v, err := p.Verify(ctx, awsTarget); err != nil || v.InForce {
		t.Errorf("verify with a rule on the quarantine group: in force %v, err %v; want not in force", v.InForce, err)
	}
	f.groups["sg-quarantine"].ingress = nil
	f.enis["eni-b"].groups = []string{"sg-web"}
	if v, err := p.Verify(ctx, awsTarget); err != nil || v.InForce || !strings.Contains(v.After, "eni-b") {
		t.Errorf("verify with eni-b moved back: in force %v, err %v (%s); want not in force, naming eni-b", v.InForce, err, v.After)
	}
}

func TestAWSReleaseWithoutRecordIsPermanent(t *testing.T) {
	f, srv := newFakeEC2(t)
	p := newTestAWS(t, srv, "breach-quarantine")
	ctx := context.Background()
	if _, err := p.Isolate(ctx, awsTarget); err != nil {
		t.Fatal(err)
	}
	delete(f.enis["eni-a"].tags, originalGroupsTag)
	if _, err := p.Release(ctx, awsTarget); !errors.Is(err, firewall.ErrPermanent) || !strings.Contains(err.Error(), "by hand") {
		t.Fatalf("release without the tag: %v; want a permanent error asking for a manual restore", err)
	}
}

func TestOriginalGroupsTagsSplit(t *testing.T) {
	var groups []string
	for i := range 16 {
		groups = append(groups, fmt.Sprintf("sg-%017x", i))
	}
	tags := originalGroupsTags(groups)
	if len(tags) < 2 {
		t.Fatalf("16 long group ids fit in %d tag(s); want a split", len(tags))
	}
	for _, tg := range tags {
		if len(aws.ToString(tg.Value)) > 256 {
			t.Errorf("tag %s value is %d long", aws.ToString(tg.Key), len(aws.ToString(tg.Value)))
		}
	}
	got, keys := originalGroups(tags)
	if !slices.Equal(got, groups) || len(keys) != len(tags) {
		t.Errorf("round trip: %v (keys %v), want %v", got, keys, groups)
	}
}

func TestFactory(t *testing.T) {
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent/breach-test")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/breach-test")
	s := firewall.ProviderSettings{AWS: firewall.AWSSettings{Region: "eu-central-1", Endpoint: "http://127.0.0.1:4566", QuarantineGroup: "breach-quarantine"}}
	p, err := Factory().New(context.Background(), s, firewall.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := p.(*provider); !ok || a.settings != s.AWS || p.Name() != firewall.ProviderAWS {
		t.Errorf("provider %+v; want the aws provider with the inventory's settings", p)
	}
	for name, broken := range map[string]firewall.AWSSettings{
		"no region":         {QuarantineGroup: "breach-quarantine"},
		"no group":          {Region: "eu-central-1"},
		"endpoint in clear": {Region: "eu-central-1", QuarantineGroup: "q", Endpoint: "http://ec2.example.com"},
	} {
		if _, err := Factory().New(context.Background(), firewall.ProviderSettings{AWS: broken}, firewall.Options{}); !errors.Is(err, firewall.ErrPermanent) {
			t.Errorf("%s: %v; want a permanent error", name, err)
		}
	}
}
