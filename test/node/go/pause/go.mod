// The pod sandbox ("pause") binary of the one-node test cluster: no image can be pulled here,
// so test/node builds this and packs it into a one-file image.
module meshlet.test/node/pause

go 1.24.0
