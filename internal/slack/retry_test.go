package slack_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/breachops/breach/activities"
	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/slack/slackfake"
)

var acts *activities.Activities

// chatFlow runs the chat activities as the incident workflow does: open the room, post, update
// the card, with the chat retry policy.
func chatFlow(ctx workflow.Context, id string) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 20 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2,
			MaximumInterval: 10 * time.Second, MaximumAttempts: 4},
	})
	if err := workflow.ExecuteActivity(ctx, acts.OpenRoom, incident.RoomRequest{IncidentID: id, Title: "Customer DB exposed", DeclaredBy: declarer}).Get(ctx, nil); err != nil {
		return err
	}
	for _, m := range []incident.ChatMessage{
		{IncidentID: id, Kind: "decision-needed", Urgent: true, Text: "The DPO must decide the risk and the notifications: breach decide " + id},
		{IncidentID: id, Kind: "scope", Text: "Scope: 3 data subjects"},
	} {
		if err := workflow.ExecuteActivity(ctx, acts.PostChat, m).Get(ctx, nil); err != nil {
			return err
		}
	}
	for _, phase := range []string{"assess", "decide", "closed"} {
		c := incident.Card{IncidentID: id, Title: "Customer DB exposed", Phase: phase, DeclaredBy: declarer}
		if phase == "closed" {
			c.ClosedAt, c.ClosedBy = clock, commander
		}
		if err := workflow.ExecuteActivity(ctx, acts.UpdateCard, c).Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

// Slack answers 429 with Retry-After and 500s; the activities are retried, nothing is posted
// twice, and the card ends correct.
func TestChatActivitiesRetryThroughSlackFailures(t *testing.T) {
	ws := newWorkspace(t)
	ws.SetFaults(func(method string, call int) *slackfake.Fault {
		rateLimited := &slackfake.Fault{Status: http.StatusTooManyRequests, RetryAfter: 1}
		unavailable := &slackfake.Fault{Status: http.StatusInternalServerError}
		switch {
		case method == "conversations.create" && call == 1, method == "chat.postMessage" && call == 2,
			method == "chat.update" && call == 1:
			return rateLimited
		case method == "pins.add" && call == 1, method == "chat.update" && call == 2,
			method == "conversations.open" && call == 1, method == "chat.postMessage" && call == 5:
			return unavailable
		}
		return nil
	})
	chat := newChat(t, ws, t.TempDir())

	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(chatFlow)
	env.RegisterActivity(&activities.Activities{Chat: chat})
	env.ExecuteWorkflow(chatFlow, "INC-20261128-7F3A")
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())

	chans := ws.Channels()
	var incident slackfake.Channel
	for _, c := range chans {
		if !c.IM {
			require.Empty(t, incident.ID, "one incident channel")
			incident = c
		}
	}
	card := cardOf(t, ws, incident.ID)
	assert.Contains(t, card.Text, "Phase: closed")
	assert.Equal(t, 3, card.Edits)
	assert.Equal(t, 1, cards(ws, incident.ID))

	msgs := ws.Messages(incident.ID)
	require.Len(t, msgs, 3, "the card and two messages, each once")
	assert.Contains(t, msgs[1].Text, "The DPO must decide")
	assert.Equal(t, "Scope: 3 data subjects", msgs[2].Text)
	assert.Len(t, ws.DirectMessages(dpo), 1)
	assert.Len(t, ws.DirectMessages(commander), 1)
	assert.GreaterOrEqual(t, ws.Calls("chat.update"), 4)
}

// Without the activities' wrapping, a rate limit's Retry-After is the next retry delay: the
// activity returns at once and Temporal waits as long as Slack asked.
func TestRetryAfterIsTheNextRetryDelay(t *testing.T) {
	ws := newWorkspace(t)
	chat := newChat(t, ws, t.TempDir())
	ws.SetFaults(func(method string, call int) *slackfake.Fault {
		if method == "chat.update" && call == 1 {
			return &slackfake.Fault{Status: http.StatusTooManyRequests, RetryAfter: 30}
		}
		return nil
	})
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterActivityWithOptions(chat.OpenRoom, activity.RegisterOptions{Name: "OpenRoomDirect"})
	env.RegisterActivityWithOptions(chat.UpdateCard, activity.RegisterOptions{Name: "UpdateCardDirect"})
	var waited time.Duration
	env.ExecuteWorkflow(func(ctx workflow.Context) error {
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 20 * time.Second,
			RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, MaximumAttempts: 3}})
		if err := workflow.ExecuteActivity(ctx, "OpenRoomDirect", roomRequest("INC-20261128-7F3A")).Get(ctx, nil); err != nil {
			return err
		}
		start := workflow.Now(ctx)
		err := workflow.ExecuteActivity(ctx, "UpdateCardDirect", incident.Card{IncidentID: "INC-20261128-7F3A", Title: "x", Phase: "assess"}).Get(ctx, nil)
		waited = workflow.Now(ctx).Sub(start)
		return err
	})
	require.NoError(t, env.GetWorkflowError())
	assert.GreaterOrEqual(t, waited, 30*time.Second, "Retry-After: 30 is honoured")
	assert.Less(t, waited, 40*time.Second)
	assert.Equal(t, 2, ws.Calls("chat.update"))
}
