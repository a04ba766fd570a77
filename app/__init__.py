"""The Qatysu application factory: wiring only."""
import os

from flask import Flask

from app.languages import LANG_PREFIX
from config import ProductionConfig, config_from_env


def create_app(config_class=None):
    config_class = config_class or config_from_env()
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object(config_class)
    config_class.validate(app)
    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    from app import i18n, maps, security
    from app.domain.accounts import configure_password_hashing
    from app.domain.publication import install_freeze_guard
    from app.web import IdConverter

    app.url_map.converters["id"] = IdConverter
    install_freeze_guard()
    from app.domain.voting import install_ballot_cache_listener

    install_ballot_cache_listener()

    configure_password_hashing(app.config["ARGON2_TIME_COST"], app.config["ARGON2_MEMORY_COST"],
                               app.config["ARGON2_PARALLELISM"])
    from app.domain import assurance

    assurance.configure_defaults(propose=app.config["DEFAULT_MIN_ASSURANCE_PROPOSE"],
                                 vote=app.config["DEFAULT_MIN_ASSURANCE_VOTE"])
    from app.extensions import babel, cache, csrf, db, limiter, login_manager, migrate
    from app.mail import init_mail
    from app.sms import init_sms

    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"), render_as_batch=True)
    csrf.init_app(app)
    cache.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    limiter.init_app(app)
    login_manager.init_app(app)
    i18n.init_app(app)
    maps.init_app(app)  # before security: the CSP names the tile server
    security.init_app(app)
    init_mail(app)
    init_sms(app)
    from app.closing import init_closing
    from app.jobs import init_jobs

    init_jobs(app)
    init_closing(app)

    from app.api import bp as api_bp
    from app.auth import bp as auth_bp
    from app.cycles import bp as cycles_bp
    from app.errors import bp as errors_bp
    from app.errors import register_error_handlers
    from app.main import bp as main_bp
    from app.ops import bp as ops_bp
    from app.results import bp as results_bp
    from app.staff import bp as staff_bp
    from app.voting import bp as voting_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(ops_bp)
    app.register_blueprint(auth_bp, url_prefix=LANG_PREFIX)
    app.register_blueprint(errors_bp)
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    app.register_blueprint(cycles_bp, url_prefix=LANG_PREFIX)
    app.register_blueprint(staff_bp, url_prefix=LANG_PREFIX)
    app.register_blueprint(voting_bp, url_prefix=LANG_PREFIX)
    app.register_blueprint(results_bp)
    if os.environ.get("QATYSU_BENCH") == "1" and not issubclass(config_class, ProductionConfig):
        from app.bench import bp as bench_bp  # bench/vote_load.py's baseline; never in production

        app.register_blueprint(bench_bp)
    csrf.exempt(api_bp)  # token-authenticated JSON API; no cookies are accepted there
    register_error_handlers(app)

    from app.cli import register_commands

    register_commands(app)
    from app.voting.cli import register_cli as register_voting_cli

    register_voting_cli(app)
    from app import templating

    templating.init_app(app)
    from app import observability, results_cache

    results_cache.init_app(app)
    observability.init_app(app)  # last: the outermost layer sees every answer, cached ones too
    return app
