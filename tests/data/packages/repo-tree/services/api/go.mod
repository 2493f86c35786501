module example.org/api

go 1.22

require golang.org/x/crypto v0.17.0
