"""The SQL of the tables more than one process uses: each module owns one table's (its one
writer is named in it); the others read through it."""
