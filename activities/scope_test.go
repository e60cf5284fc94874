package activities

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/datasets"
)

const testIncident = "INC-20261128-7F3A"

// What the scope phase hands the workflow (a result, or an error's message: both enter history,
// the timeline, chat and status) holds no byte of any cell, whatever the file looks like.
func TestScopeHandsTheWorkflowNoCell(t *testing.T) {
	cells := []string{"lea.weber@example.net", "Léa Weber", "IBAN DE89370400440532013000", "born 1984-02-29", "C1001"}
	row := "C1001,lea.weber@example.net,Léa Weber,DE,,IBAN DE89370400440532013000;born 1984-02-29"
	tests := []struct {
		name    string
		data    string
		errType string // "" when the scope succeeds
	}{
		{"no header row", row + "\n" + row + "\n", incident.ErrTypeSubjectsMissingColumn},
		{"CR line endings", "id,email,name,country,state,data_categories\r" + row + "\r", incident.ErrTypeSubjectsUnreadable},
		{"free-text data categories", "id,email,name,country,state,data_categories\n" + row + "\n", ""},
		{"a record past the limit", "id,email,name,country,state,data_categories\n" + row + strings.Repeat(" Léa Weber", 8000) + "\n", incident.ErrTypeSubjectsUnreadable},
		{"a field past the limit", "id,email,name,country,state,data_categories\nC1001,lea.weber@example.net," + strings.Repeat("Léa Weber", 2000) + ",DE,,\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store, err := datasets.Open(filepath.Join(t.TempDir(), "datasets"), 0)
			require.NoError(t, err)
			defer store.Close()
			info, err := store.Add(context.Background(), "subjects.csv", strings.NewReader(tt.data), false)
			require.NoError(t, err)
			var s testsuite.WorkflowTestSuite
			env := s.NewTestActivityEnvironment()
			a := &Activities{Datasets: StoreDatasets{Store: store}, Dir: t.TempDir()}
			env.RegisterActivity(a)
			v, err := env.ExecuteActivity(a.AssessScope, incident.ScopeInput{IncidentID: testIncident, Dataset: incident.DatasetRef{URI: info.Ref}})
			var text string
			if tt.errType != "" {
				require.Error(t, err)
				require.Contains(t, err.Error(), tt.errType)
				text = err.Error()
			} else {
				require.NoError(t, err)
				var res incident.ScopeResult
				require.NoError(t, v.Get(&res))
				j, _ := json.Marshal(res)
				text = string(j)
				require.NotEmpty(t, res.Summary.Issues, "the problem is reported by line")
			}
			for _, c := range cells {
				require.NotContains(t, text, c)
			}
			for _, part := range []string{"lea.", "Weber", "IBAN", "1984"} {
				require.NotContains(t, text, part)
			}
			t.Log(text)
		})
	}
}
