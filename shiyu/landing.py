"""The page at `/` until the web app (web/) is built: where to go and how to log in."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from shiyu import __version__

router = APIRouter(include_in_schema=False)

_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>市域社会治理平台 Shiyu</title>
<style>
body{{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;max-width:46rem;margin:3rem auto;
padding:0 1rem;color:#1f2937;line-height:1.7}}
h1{{color:#b91c1c;margin-bottom:.2rem}} code{{background:#f3f4f6;padding:.1rem .3rem}}
a{{color:#1d4ed8}} .muted{{color:#6b7280;font-size:.9rem}}
</style></head><body>
<h1>市域社会治理平台</h1>
<p class="muted">Shiyu {version} · City-level social governance platform</p>
<p>服务已启动。管理后台与指挥中心界面正在建设中，现可通过接口使用：</p>
<ul>
<li><a href="/docs">接口文档（可在线调试）/ API docs</a></li>
<li><a href="/openapi.json">OpenAPI 描述 / OpenAPI document</a></li>
<li><a href="/healthz">健康检查 / Health</a></li>
</ul>
<p>演示账号：用户名 <code>admin</code>，密码见 <code>make demo</code> 的输出
（默认 <code>Shiyu@2026</code>，可用 <code>SHIYU_DEMO_PASSWORD</code> 修改）。
在接口文档页面点击 “Authorize” 登录。</p>
<p class="muted">Demo login: user <code>admin</code>, password printed by <code>make demo</code>.
Use “Authorize” on the API docs page.</p>
</body></html>"""


@router.get("/", response_class=HTMLResponse)
def landing() -> HTMLResponse:
    return HTMLResponse(_PAGE.format(version=__version__))
