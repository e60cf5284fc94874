package sendgrid

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/sendgrid/rest"
	sg "github.com/sendgrid/sendgrid-go"

	"github.com/breachops/breach/internal/mail"
)

// ActivityLimit is the most messages one Email Activity query returns.
const ActivityLimit = 1000

// Statuses of a message in Email Activity.
const (
	StatusProcessed    = "processed"
	StatusDelivered    = "delivered"
	StatusNotDelivered = "not_delivered"
)

// ActivityMessage is one message found in Email Activity. To is an address: never log it.
type ActivityMessage struct {
	MsgID         string `json:"msg_id"`
	To            string `json:"to_email"`
	Status        string `json:"status"`
	LastEventTime string `json:"last_event_time"`
}

// FindByBatchKey lists the messages whose custom_args carry batch_key=key, through the
// Email Activity API (GET /v3/messages?query=unique_args['batch_key']="key"). Any message
// listed, whatever its status, means SendGrid accepted a request addressed to that
// recipient: resending would duplicate it.
//
// Email Activity lags behind Mail Send (typically seconds to minutes), so an absent message
// is no proof that nothing was accepted: the caller decides how long to wait. At most
// ActivityLimit messages are returned; the API has no paging. Errors: ErrNoEmailActivity
// when the account lacks the add-on (403 or 404), otherwise as for Mail Send, except that a
// transport failure is ErrTemporary (a query changes nothing).
func (c *Client) FindByBatchKey(ctx context.Context, key string) ([]ActivityMessage, error) {
	op := "email activity query batch " + key
	if !validKey(key) {
		return nil, &Error{Op: op, Kind: ErrInvalidInput, Err: fmt.Errorf("batch key %q: use 1 to %d letters, digits or ._:/-", key, maxKeyLen)}
	}
	req := sg.GetRequest(c.apiKey, messagesPath, c.host)
	req.Method = rest.Get
	req.QueryParams = map[string]string{
		"query": ActivityQuery(ArgBatchKey, key),
		"limit": strconv.Itoa(ActivityLimit),
	}
	resp, err := c.do(ctx, req, false)
	if err != nil {
		return nil, wrapTransport(op, err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusForbidden, http.StatusNotFound:
		return nil, &Error{Op: op, Kind: ErrNoEmailActivity, StatusCode: resp.StatusCode, Fields: parseFieldErrors(resp.Body)}
	default:
		return nil, c.statusError(op, resp)
	}
	var out struct {
		Messages []ActivityMessage `json:"messages"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &out); err != nil {
		return nil, &Error{Op: op, Kind: ErrTemporary, StatusCode: resp.StatusCode, Err: fmt.Errorf("decode answer: %w", err)}
	}
	return out.Messages, nil
}

// ActivityQuery is the Email Activity query selecting messages by one custom argument.
// The value must not contain a double quote.
func ActivityQuery(arg, value string) string {
	return "unique_args['" + arg + "']=\"" + value + "\""
}

// Reached returns the normalized addresses that appear in msgs.
func Reached(msgs []ActivityMessage) map[string]struct{} {
	out := make(map[string]struct{}, len(msgs))
	for _, m := range msgs {
		out[mail.Normalize(m.To)] = struct{}{}
	}
	return out
}
