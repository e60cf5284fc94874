package declare

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/breachops/breach/incident"
)

// server is a Temporal frontend in memory: workflows by ID with their memo, and faults to
// inject on the next calls.
type server struct {
	client.Client
	mu        sync.Mutex
	running   map[string]map[string]*commonpb.Payload
	starts    int
	failStart []error
	// lostAnswer starts the workflow but answers the call with the error, as when a
	// response is lost on the way back.
	lostAnswer  error
	failDescr   []error
	describeErr int
}

func newServer() *server { return &server{running: map[string]map[string]*commonpb.Payload{}} }

type run struct{ id string }

func (r run) GetID() string                                                           { return r.id }
func (r run) GetRunID() string                                                        { return "run-" + r.id }
func (r run) GetFirstExecutionRunID() string                                          { return "run-" + r.id }
func (r run) Get(context.Context, any) error                                          { return nil }
func (r run) GetWithOptions(context.Context, any, client.WorkflowRunGetOptions) error { return nil }

func (s *server) ExecuteWorkflow(ctx context.Context, o client.StartWorkflowOptions, _ any, _ ...any) (client.WorkflowRun, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.starts++
	if len(s.failStart) > 0 {
		err := s.failStart[0]
		s.failStart = s.failStart[1:]
		return nil, err
	}
	if !o.WorkflowExecutionErrorWhenAlreadyStarted {
		return nil, fmt.Errorf("the start must ask for an error when the ID is taken")
	}
	if _, ok := s.running[o.ID]; ok {
		return nil, serviceerror.NewWorkflowExecutionAlreadyStarted("taken", "", "run-"+o.ID)
	}
	memo := map[string]*commonpb.Payload{}
	for k, v := range o.Memo {
		p, err := converter.GetDefaultDataConverter().ToPayload(v)
		if err != nil {
			return nil, err
		}
		memo[k] = p
	}
	s.running[o.ID] = memo
	if s.lostAnswer != nil {
		err := s.lostAnswer
		s.lostAnswer = nil
		return nil, err
	}
	return run{o.ID}, nil
}

func (s *server) DescribeWorkflow(ctx context.Context, id, _ string) (*client.WorkflowExecutionDescription, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.failDescr) > 0 {
		err := s.failDescr[0]
		s.failDescr = s.failDescr[1:]
		s.describeErr++
		return nil, err
	}
	memo, ok := s.running[id]
	if !ok {
		return nil, serviceerror.NewNotFound("no such workflow")
	}
	return &client.WorkflowExecutionDescription{RawResponse: &workflowservice.DescribeWorkflowExecutionResponse{
		WorkflowExecutionInfo: &workflowpb.WorkflowExecutionInfo{Memo: &commonpb.Memo{Fields: memo}}}}, nil
}

var aware = time.Date(2026, 11, 28, 8, 10, 0, 0, time.UTC)

func decl(key string) incident.Declaration {
	return incident.Declaration{Title: "t", Systems: []string{"shop-db"}, AwareAt: aware, DeclaredBy: "cli:ic", Key: key}
}

func quick() Options { return Options{Retry: 2 * time.Second} }

func TestKeyedDeclarationTwiceIsOneIncident(t *testing.T) {
	s := newServer()
	a, err := Start(context.Background(), s, decl("k-1"), quick())
	if err != nil || a.Existing {
		t.Fatalf("first: %+v %v", a, err)
	}
	b, err := Start(context.Background(), s, decl("k-1"), quick())
	if err != nil || !b.Existing || b.IncidentID != a.IncidentID {
		t.Fatalf("second declaration with the same key: %+v %v; want the first incident %s", b, err, a.IncidentID)
	}
	if len(s.running) != 1 {
		t.Fatalf("%d incidents, want 1", len(s.running))
	}
}

// An ID held by an incident of another key is never joined: the next candidate starts.
func TestTakenIDMovesOn(t *testing.T) {
	s := newServer()
	s.running[incident.IncidentWorkflowID(incident.KeyedID(aware, "k-2", 0))] = map[string]*commonpb.Payload{}
	res, err := Start(context.Background(), s, decl("k-2"), quick())
	if err != nil || res.Existing || res.IncidentID != incident.KeyedID(aware, "k-2", 1) {
		t.Fatalf("%+v %v; want a new incident at the next candidate", res, err)
	}
	d := decl("")
	d.IncidentID = "INC-20261128-0000000000000001"
	s.running[incident.IncidentWorkflowID(d.IncidentID)] = map[string]*commonpb.Payload{}
	res, err = Start(context.Background(), s, d, quick())
	if err != nil || res.Existing || res.IncidentID == d.IncidentID {
		t.Fatalf("%+v %v; a fresh declaration must never join a taken ID", res, err)
	}
}

// A transient error while checking who holds an ID is retried: it is never read as "another
// incident", which would start a second incident for one key.
func TestTransientDescribeIsRetried(t *testing.T) {
	s := newServer()
	first, err := Start(context.Background(), s, decl("k-3"), quick())
	if err != nil {
		t.Fatal(err)
	}
	s.failDescr = []error{serviceerror.NewUnavailable("connection reset"), serviceerror.NewDeadlineExceeded("slow")}
	again, err := Start(context.Background(), s, decl("k-3"), quick())
	if err != nil || !again.Existing || again.IncidentID != first.IncidentID {
		t.Fatalf("%+v %v; want the first incident", again, err)
	}
	if s.describeErr != 2 || len(s.running) != 1 {
		t.Fatalf("describe errors %d, incidents %d", s.describeErr, len(s.running))
	}
	// If the check keeps failing, the caller hears it; nothing else starts.
	s.failDescr = []error{serviceerror.NewPermissionDenied("no", "")}
	if _, err := Start(context.Background(), s, decl("k-3"), quick()); err == nil || !strings.Contains(err.Error(), "could not be checked") {
		t.Fatalf("a failing check: %v", err)
	}
	if len(s.running) != 1 {
		t.Fatalf("%d incidents after a failed check, want 1", len(s.running))
	}
}

// A start whose answer is lost is retried and recognised as its own: one incident, reported
// as started, not as a repeat.
func TestLostAnswerIsOneIncident(t *testing.T) {
	s := newServer()
	s.lostAnswer = serviceerror.NewUnavailable("response lost")
	s.failStart = []error{serviceerror.NewUnavailable("frontend restarting")}
	res, err := Start(context.Background(), s, decl(""), quick())
	if err != nil || res.Existing {
		t.Fatalf("%+v %v", res, err)
	}
	if len(s.running) != 1 || s.starts != 3 {
		t.Fatalf("%d incidents after %d starts; want 1 after 3", len(s.running), s.starts)
	}
}

func TestPermanentErrorIsNotRetried(t *testing.T) {
	s := newServer()
	s.failStart = []error{serviceerror.NewInvalidArgument("bad"), serviceerror.NewInvalidArgument("bad")}
	if _, err := Start(context.Background(), s, decl(""), quick()); err == nil || s.starts != 1 {
		t.Fatalf("err %v after %d starts; want an error after one", err, s.starts)
	}
}
