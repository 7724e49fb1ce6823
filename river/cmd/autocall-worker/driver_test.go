package main

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
)

func riverpgxv5New(pool *pgxpool.Pool) *riverpgxv5.Driver { return riverpgxv5.New(pool) }
