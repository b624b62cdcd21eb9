module langop.local/testcluster/node/pause

go 1.26.0
