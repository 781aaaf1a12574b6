"""What benchmarks/peers.py's clients send and its server answers with (standard library only,
so that importing it costs the clients under measurement nothing)."""

#: What the clients publish: 235 characters with a link (X weighs it 23) and an emoji.
LONG_TEXT = (
    "Benchmarks compare socialkit with the SDKs a user would pick instead: same server, same "
    "work per call, CPU of the client process only. Details and figures: "
    "https://example.com/socialkit/docs/performance 🚀 #python #async (nox -s bench)!"
)

DID = "did:plc:z72i7hdynmk6r22z27h6tvur"
HANDLE = "bench.bsky.social"
CID = "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"
