package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/config"
	"github.com/breachops/breach/internal/datasets"
	"github.com/breachops/breach/internal/infile"
)

// openDatasets opens the configuration's dataset store: the cluster's shared store when
// BREACH_STORE_URL names one, else the directory datasets.dir.
func openDatasets(cfg *config.Config) (*datasets.Store, error) {
	if os.Getenv("BREACH_STORE_URL") != "" {
		st, err := openStore(cfg)
		if err != nil {
			return nil, err
		}
		return datasets.OnStore(st, cfg.Datasets.MaxBytes), nil
	}
	s, err := datasets.Open(cfg.Datasets.Dir, cfg.Datasets.MaxBytes)
	if err != nil {
		return nil, fmt.Errorf("%w; set datasets.dir in the configuration to a directory the worker can write", err)
	}
	return s, nil
}

// subjectsFlags is how a command names its affected-subjects dataset: a local file, added to
// the store, or a dataset already in the store. The incident only ever carries the store's
// reference.
type subjectsFlags struct {
	file, dataset string
}

func (s *subjectsFlags) register(fl *pflag.FlagSet, what string) {
	fl.StringVar(&s.file, "subjects", "", what+": a CSV file, added to the dataset store")
	fl.StringVar(&s.dataset, "dataset", "", what+": a dataset already in the store (breach datasets list)")
}

func (s *subjectsFlags) given() bool { return s.file != "" || s.dataset != "" }

// check looks at what was given before anything else is done: a file must be a regular file a
// person can read, within the store's limit; nothing is created on bad input.
func (s *subjectsFlags) check(cfg *config.Config) error {
	switch {
	case s.file != "" && s.dataset != "":
		return usagef("give --subjects FILE or --dataset NAME, not both")
	case s.dataset != "":
		if err := datasets.ValidateName(s.dataset); err != nil {
			return usagef("--dataset: %v", err)
		}
	case s.file != "":
		max := cfg.Datasets.MaxBytes
		if max <= 0 {
			max = datasets.DefaultMaxBytes
		}
		if err := infile.Check(s.file, max); err != nil {
			var ie *infile.Error
			if errors.As(err, &ie) {
				return usagef("--subjects %v (a CSV export of the affected people)", err)
			}
			return usagef("--subjects %s cannot be read: %v; check the path and permissions", s.file, err)
		}
	}
	return nil
}

// resolve adds the file to the store, or checks that the named dataset is there.
func (s *subjectsFlags) resolve(ctx context.Context, cfg *config.Config) (incident.DatasetRef, error) {
	if err := s.check(cfg); err != nil {
		return incident.DatasetRef{}, err
	}
	store, err := openDatasets(cfg)
	if err != nil {
		return incident.DatasetRef{}, err
	}
	defer store.Close()
	if s.dataset != "" {
		if err := datasets.ValidateName(s.dataset); err != nil {
			return incident.DatasetRef{}, usagef("--dataset: %v", err)
		}
		f, err := store.Open(ctx, datasets.Ref(s.dataset))
		if err != nil {
			return incident.DatasetRef{}, usagef("--dataset %s: %v", s.dataset, err)
		}
		f.Close()
		return incident.DatasetRef{URI: datasets.Ref(s.dataset)}, nil
	}
	info, err := store.AddFile(ctx, s.file)
	var tl *datasets.TooLargeError
	switch {
	case errors.As(err, &tl):
		return incident.DatasetRef{}, usagef("--subjects %s: %v", s.file, err)
	case err != nil:
		return incident.DatasetRef{}, usagef("--subjects %v", err)
	}
	return incident.DatasetRef{URI: info.Ref}, nil
}

func newDatasetsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "datasets",
		Short: "The store of affected-subjects datasets: add and list",
		Long: "Incidents read their affected people from the dataset store (datasets.dir, default BREACH_HOME/datasets), " +
			"never from a path: add an export here, then name it when declaring (--dataset) or in Slack's declare form; " +
			"a CSV shared in an incident's Slack channel (its message menu → Use as subjects dataset) is added here too.",
	}
	var name string
	var replace, asJSON bool
	add := &cobra.Command{
		Use:   "add FILE [--name NAME]",
		Short: "Add a CSV export to the store",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("add needs exactly one file")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := g.config()
			if err != nil {
				return err
			}
			store, err := openDatasets(cfg)
			if err != nil {
				return err
			}
			defer store.Close()
			var info datasets.Info
			if name == "" {
				info, err = store.AddFile(cmd.Context(), args[0])
			} else {
				if err := datasets.ValidateName(name); err != nil {
					return usagef("--name: %v", err)
				}
				f, oerr := infile.Open(args[0], store.MaxBytes())
				if oerr != nil {
					return usagef("%v", oerr)
				}
				defer f.Close()
				info, err = store.Add(cmd.Context(), name, f, replace)
			}
			if err != nil {
				return usagef("%v", err)
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), info)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s added (%d bytes, sha256 %s)\n  use it: breach declare … --dataset %s\n", info.Name, info.Size, info.SHA256, info.Name)
			return nil
		},
	}
	add.Flags().StringVar(&name, "name", "", "the dataset's name (default: the file's name and the start of its hash)")
	add.Flags().BoolVar(&replace, "replace", false, "replace a dataset of that name")
	add.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	var listJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List the datasets of the store, newest first",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.config()
			if err != nil {
				return err
			}
			store, err := openDatasets(cfg)
			if err != nil {
				return err
			}
			defer store.Close()
			infos, err := store.List()
			if err != nil {
				return err
			}
			if listJSON {
				if infos == nil {
					infos = []datasets.Info{}
				}
				return printJSON(cmd.OutOrStdout(), infos)
			}
			if len(infos) == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "no datasets in %s; add one with: breach datasets add FILE.csv\n", store.Dir())
				return nil
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tBYTES\tADDED (UTC)")
			for _, i := range infos {
				fmt.Fprintf(tw, "%s\t%d\t%s\n", i.Name, i.Size, i.Modified.Format("2006-01-02 15:04"))
			}
			return tw.Flush()
		},
	}
	list.Flags().BoolVar(&listJSON, "json", false, "print as JSON")
	cmd.AddCommand(add, list)
	return cmd
}
