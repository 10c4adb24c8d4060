import type { RouteRecordRaw } from 'vue-router'

// full-screen pages outside the admin layout (big screen and phones)
const routes: RouteRecordRaw[] = [
  {
    path: '/command-centre',
    name: 'command-centre',
    component: () => import('@/views/dashboard/command-centre/index.vue'),
    meta: { title: 'menu.commandCentre', icon: 'monitor', order: 0, authority: ['dashboard:read'], menu: true },
  },
]
export default routes
