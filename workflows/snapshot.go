package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/breachops/breach/incident"
)

// changeSQLSnapshot is the workflow.GetVersion change after which a SQL subject source is
// snapshotted into the dataset store before its scope is assessed. It is asked only of a
// reference to a SQL source, which no incident carried before.
const changeSQLSnapshot = "sql-subjects-snapshot"

// snapshot takes the rows of a SQL subject source into the dataset store and returns the
// snapshot's reference, recording it on the timeline: from then on the incident reads the
// snapshot, whatever the database holds. A dataset of the store is returned as it is.
func (inc *incidentImpl) snapshot(ctx workflow.Context, ds incident.DatasetRef) (incident.DatasetRef, error) {
	if !ds.IsQuery() || workflow.GetVersion(ctx, changeSQLSnapshot, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return ds, nil
	}
	var res incident.SnapshotResult
	if err := workflow.ExecuteActivity(snapshotCtx(ctx), a.SnapshotSubjects, incident.SnapshotInput{
		IncidentID: inc.decl.IncidentID, Dataset: ds,
	}).Get(ctx, &res); err != nil {
		return ds, err
	}
	text := snapshotText(*ds.Query, res)
	inc.event(ctx, "snapshot", text)
	inc.chat("snapshot", text, false)
	return res.Dataset, nil
}

func snapshotText(q incident.SubjectsQuery, res incident.SnapshotResult) string {
	window := ""
	switch {
	case q.WindowFrom != nil && q.WindowTo != nil:
		window = fmt.Sprintf(" for %s to %s", q.WindowFrom.UTC().Format(time.RFC3339), q.WindowTo.UTC().Format(time.RFC3339))
	case q.WindowTo != nil:
		window = " up to " + q.WindowTo.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("Subjects read from SQL source %s%s: %d rows snapshotted into %s (%d bytes, SHA-256 %s); the incident uses this snapshot from now on.",
		q.Source, window, res.Rows, res.Dataset.URI, res.Bytes, res.Dataset.SHA256)
}
