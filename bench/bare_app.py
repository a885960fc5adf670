"""The baseline of bench/http.py: a bare FastAPI app, no middleware, one route each way.

Run under the same uvicorn settings as ``livebase serve``, it is what the HTTP stack costs
before livebase adds anything (issue 18 item 0b).
"""

from fastapi import FastAPI

app = FastAPI()


@app.get("/sync")
def sync_route() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/async")
async def async_route() -> dict[str, str]:
    return {"status": "ok"}
