package activities

import (
	"github.com/breachops/breach/incident"
)

type IncidentRecord = incident.IncidentRecord

type Decision = incident.Decision

type Event = incident.Event

type SystemStatus = incident.SystemStatus

const (
	ContainIsolating = incident.ContainIsolating
	ContainContained = incident.ContainContained
	ContainManual    = incident.ContainManual
	ContainReleased  = incident.ContainReleased
	ContainFailed    = incident.ContainFailed
)

type ObligationStatus = incident.ObligationStatus

type Supplement = incident.Supplement

const (
	OblDrafting         = incident.OblDrafting
	OblAwaitingApproval = incident.OblAwaitingApproval
	OblSubmitting       = incident.OblSubmitting
	OblAwaitingFiling   = incident.OblAwaitingFiling
	OblAwaitingNotices  = incident.OblAwaitingNotices
	OblFiled            = incident.OblFiled
	OblFailed           = incident.OblFailed
)

type AlertProgress = incident.AlertProgress

type History = incident.History
